import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { ConnectionPool } from '../../../src/core/upstream/connection-pool.js';
import { keepAliveHintMs } from '../../../src/core/upstream/connection.js';
import { classifyFailure, UpstreamErrorCode } from '../../../src/core/upstream/transport.js';
import { code, get, httpServer, rawServer, Recorder, request, until } from './helpers.js';

function send(pool: ConnectionPool, req = get()): Recorder {
  const recorder = new Recorder();
  pool.dispatch(req, recorder);
  return recorder;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('upstream connection pool: keep-alive and response framing', () => {
  const pools: ConnectionPool[] = [];
  const newPool = (origin: string, idleTimeoutMs?: number): ConnectionPool => {
    const pool = new ConnectionPool(origin, { connectTimeoutMs: 2000, idleTimeoutMs });
    pools.push(pool);
    return pool;
  };
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('reuses one connection for sequential requests', async () => {
    const server = await httpServer((req, res) => res.end(`you asked ${req.url}`));
    const pool = newPool(server.origin);
    for (const path of ['/a', '/b', '/c']) {
      const r = send(pool, get(path));
      await r.done;
      assert.deepEqual(r.calls, ['connect', 'headers 200', 'data', 'complete']);
      assert.equal(r.body, `you asked ${path}`);
    }
    assert.equal(server.sockets.length, 1, 'one TCP connection served all three');
    assert.equal(pool.idleConnections, 1);
    await server.close();
  });

  it('creates no timer per request on a warm connection', async () => {
    const server = await rawServer((c) => c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    const pool = newPool(server.origin);
    const realSetTimeout = globalThis.setTimeout;
    let timers = 0;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => (timers++, realSetTimeout(...args))) as typeof setTimeout;
    try {
      for (let i = 0; i < 50; i++) {
        // Deadlines shift a little from request to request, as the exchange's remaining time does.
        const r = send(pool, request({ headersTimeoutMs: 5000 - i, bodyTimeoutMs: 5000 }));
        await r.done;
        assert.equal(r.status, 200);
      }
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    assert.equal(server.connections.length, 1);
    assert.ok(timers <= 2, `${timers} timers for 50 requests`);
    await server.close();
  });

  it('opens a connection per concurrent request (no pipelining)', async () => {
    const held: ServerResponse[] = [];
    const server = await httpServer((_req, res) => {
      held.push(res);
      if (held.length === 3) for (const r of held) r.end('ok');
    });
    const pool = newPool(server.origin);
    const recorders = [send(pool), send(pool), send(pool)];
    await Promise.all(recorders.map((r) => r.done));
    assert.deepEqual(recorders.map((r) => r.status), [200, 200, 200]);
    assert.equal(server.sockets.length, 3);
    assert.equal(pool.idleConnections, 3);
    // LIFO: the next request goes to the connection released last, which is still warm.
    const next = send(pool);
    await next.done;
    assert.equal(server.sockets.length, 3);
    await server.close();
  });

  it('sets the host header from the origin when the request has none, and keeps a given one', async () => {
    const hosts: (string | undefined)[] = [];
    const server = await httpServer((req, res) => (hosts.push(req.headers.host), res.end()));
    const pool = newPool(server.origin);
    await send(pool, get('/')).done;
    await send(pool, get('/', ['Host', 'shop.example'])).done;
    assert.deepEqual(hosts, [new URL(server.origin).host, 'shop.example']);
    await server.close();
  });

  it('decodes a chunked response and hands raw headers over as strings', async () => {
    const server = await httpServer((_req, res) => {
      res.setHeader('X-Thing', 'one');
      res.write('hello ');
      setImmediate(() => res.end('world'));
    });
    const pool = newPool(server.origin);
    const r = send(pool);
    await r.done;
    assert.equal(r.body, 'hello world');
    assert.equal(r.header('transfer-encoding'), 'chunked');
    assert.equal(r.header('x-thing'), 'one');
    assert.ok(r.headers.every((h) => typeof h === 'string'));
    assert.equal(r.statusText, 'OK');
    await server.close();
  });

  it('drops response trailers: they never become headers of the next response on the connection', async () => {
    const server = await rawServer((c, head) => {
      if (head.startsWith('GET /first')) c.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Trailer: sneaky\r\n\r\n');
      else c.socket.write('HTTP/1.1 200 OK\r\nX-Second: yes\r\nContent-Length: 2\r\n\r\nok');
    });
    const pool = newPool(server.origin);
    const first = send(pool, get('/first'));
    await first.done;
    assert.equal(first.body, 'hi');
    const second = send(pool, get('/second'));
    await second.done;
    assert.equal(server.connections.length, 1, 'one kept-alive connection');
    assert.deepEqual(second.headers, ['X-Second', 'yes', 'Content-Length', '2']);
    await server.close();
  });

  it('reads a close-delimited response to the end and does not reuse its connection', async () => {
    const server = await rawServer((c) => c.socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall until the end'));
    const pool = newPool(server.origin);
    const r = send(pool);
    await r.done;
    assert.deepEqual(r.calls.at(-1), 'complete');
    assert.equal(r.body, 'all until the end');
    await send(pool).done;
    assert.equal(server.connections.length, 2);
    await server.close();
  });

  it('expects no body after HEAD even with a content-length, and reuses the connection', async () => {
    const server = await httpServer((req, res) => {
      res.setHeader('content-length', '100');
      if (req.method === 'HEAD') res.end();
      else res.end('x'.repeat(100));
    });
    const pool = newPool(server.origin);
    const head = send(pool, request({ method: 'HEAD' }));
    await head.done;
    assert.deepEqual(head.calls, ['connect', 'headers 200', 'complete']);
    assert.equal(head.header('content-length'), '100');
    const after = send(pool);
    await after.done;
    assert.equal(after.bytes, 100);
    assert.equal(server.sockets.length, 1);
    await server.close();
  });

  it('completes a 204 and a 304 without a body', async () => {
    const server = await rawServer((c, _head, i) =>
      c.socket.write(i === 0 ? 'HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n' : 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n'),
    );
    const pool = newPool(server.origin);
    const noContent = send(pool);
    await noContent.done;
    assert.deepEqual(noContent.calls, ['connect', 'headers 204', 'complete']);
    const notModified = send(pool);
    await notModified.done;
    assert.deepEqual(notModified.calls, ['connect', 'headers 304', 'complete']);
    assert.equal(server.connections.length, 1);
    await server.close();
  });

  it('passes over 100 Continue and 103 Early Hints: only the final response reaches the handler', async () => {
    const server = await rawServer((c) => {
      c.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      setImmediate(() => {
        c.socket.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n');
        setImmediate(() => c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
      });
    });
    const pool = newPool(server.origin);
    const r = send(pool);
    await r.done;
    assert.deepEqual(r.calls, ['connect', 'headers 200', 'data', 'complete']);
    assert.equal(r.header('link'), undefined);
    assert.equal(r.body, 'ok');
    await server.close();
  });

  it('joins a response head that arrives in many pieces', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `X-Header-${i}: ${'v'.repeat(50)}\r\n`);
    const server = await rawServer((c) => {
      const head = `HTTP/1.1 200 OK\r\n${lines.join('')}Content-Length: 2\r\n\r\nok`;
      let at = 0;
      const step = (): void => {
        c.socket.write(head.slice(at, at + 97));
        at += 97;
        if (at < head.length) setTimeout(step, 1);
      };
      step();
    });
    const pool = newPool(server.origin);
    const r = send(pool);
    await r.done;
    assert.equal(r.status, 200);
    assert.equal(r.headers.length, 2 * 41);
    assert.equal(r.header('x-header-39'), 'v'.repeat(50));
    assert.equal(r.body, 'ok');
    await server.close();
  });

  it('keeps an idle connection for the upstream\'s Keep-Alive timeout less a second', async () => {
    assert.equal(keepAliveHintMs(['Keep-Alive', 'timeout=5, max=100'], 30_000), 4000);
    assert.equal(keepAliveHintMs(['keep-alive', 'max=3, timeout=1'], 30_000), 1000, 'never below 1 s');
    assert.equal(keepAliveHintMs(['Keep-Alive', 'timeout=100000'], 30_000), 600_000, 'capped');
    assert.equal(keepAliveHintMs(['Keep-Alive', 'max=5'], 30_000), 30_000);
    assert.equal(keepAliveHintMs(['Content-Length', '5'], 30_000), 30_000);

    const server = await rawServer((c) => c.socket.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=2\r\nContent-Length: 0\r\n\r\n'));
    const pool = newPool(server.origin); // default idle timeout: 30 s
    await send(pool).done;
    const released = Date.now();
    const connection = server.connections[0]!;
    await once(connection.socket, 'end'); // the client closed it
    const idleMs = Date.now() - released;
    assert.ok(idleMs >= 900 && idleMs < 5000, `closed after ${idleMs} ms, expected about 1 s`);
    await until(() => pool.idleConnections === 0, 'the pool to forget the closed connection');
    await server.close();
  });

  it('closes an idle connection after its idle timeout when the upstream gives no hint', async () => {
    const server = await httpServer((_req, res) => res.end());
    const pool = newPool(server.origin, 50);
    await send(pool).done;
    assert.equal(pool.idleConnections, 1);
    await once(server.sockets[0]!, 'close');
    await until(() => pool.idleConnections === 0, 'the idle connection to be dropped');
    await server.close();
  });

  it('does not reuse a connection after Connection: close or an HTTP/1.0 response without keep-alive', async () => {
    const server = await rawServer((c, head) => {
      if (head.startsWith('GET /close')) c.socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na');
      else if (head.startsWith('GET /http10')) c.socket.write('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb');
      else c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc');
    });
    const pool = newPool(server.origin);
    await send(pool, get('/close')).done;
    assert.equal(pool.idleConnections, 0);
    await until(() => server.connections[0]!.closed, 'the client to close the first connection');
    await send(pool, get('/http10')).done;
    assert.equal(pool.idleConnections, 0);
    await send(pool, get('/keep')).done;
    await send(pool, get('/keep')).done;
    assert.equal(server.connections.length, 3, 'close, 1.0, then one kept-alive connection for two requests');
    assert.equal(pool.idleConnections, 1);
    await server.close();
  });

  it('drops an idle connection from the pool as soon as the upstream closes it', async () => {
    const server = await rawServer((c) => {
      c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      setImmediate(() => c.socket.end());
    });
    const pool = newPool(server.origin);
    await send(pool).done;
    await until(() => pool.idleConnections === 0, 'the closed connection to leave the idle list');
    const next = send(pool);
    await next.done;
    assert.equal(next.status, 200, 'the next request went to a fresh connection');
    assert.equal(server.connections.length, 2);
    await server.close();
  });
});

describe('upstream connection pool: request bodies', () => {
  const pools: ConnectionPool[] = [];
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('sends a Buffer body with its content-length, head and body in one write', async () => {
    const server = await rawServer(() => undefined);
    const pool = new ConnectionPool(server.origin, { connectTimeoutMs: 2000 });
    pools.push(pool);
    const body = Buffer.from('x'.repeat(1000));
    send(pool, request({ method: 'PUT', path: '/up', headers: ['content-length', '5', 'x-a', 'b'], body }));
    await until(() => server.connections[0]?.received.length === server.connections[0]?.received.indexOf('\r\n\r\n') + 4 + 1000, 'the whole request');
    const connection = server.connections[0]!;
    const text = connection.received.toString('latin1');
    assert.match(text, /^PUT \/up HTTP\/1\.1\r\n/);
    assert.match(text, /\r\ncontent-length: 1000\r\n/);
    assert.doesNotMatch(text, /content-length: 5/, "the caller's content-length gives way to the buffer's");
    assert.ok(text.endsWith('x'.repeat(1000)));
    await server.close();
  });

  it('sends content-length: 0 for a bodiless POST but not for a GET', async () => {
    const seen: (string | undefined)[] = [];
    const server = await httpServer((req, res) => (seen.push(req.headers['content-length']), res.end()));
    const pool = new ConnectionPool(server.origin, { connectTimeoutMs: 2000 });
    pools.push(pool);
    await send(pool, request({ method: 'POST' })).done;
    await send(pool, request({ method: 'GET' })).done;
    assert.deepEqual(seen, ['0', undefined]);
    await server.close();
  });

  it('streams a body with a content-length as it is, and one without as chunked', async () => {
    const seen: { te: string | undefined; cl: string | undefined; body: string }[] = [];
    const server = await httpServer(async (req, res) => {
      seen.push({ te: req.headers['transfer-encoding'], cl: req.headers['content-length'], body: await readBody(req) });
      res.end('thanks');
    });
    const pool = new ConnectionPool(server.origin, { connectTimeoutMs: 2000 });
    pools.push(pool);
    const sized = send(pool, request({ method: 'POST', headers: ['content-length', '10'], body: Readable.from([Buffer.from('01234'), Buffer.from('56789')]) }));
    await sized.done;
    const chunked = send(pool, request({ method: 'POST', body: Readable.from([Buffer.from('ab'), Buffer.from(''), Buffer.from('cd')]) }));
    await chunked.done;
    assert.equal(sized.body, 'thanks');
    assert.equal(chunked.body, 'thanks');
    assert.deepEqual(seen, [
      { te: undefined, cl: '10', body: '0123456789' },
      { te: 'chunked', cl: undefined, body: 'abcd' },
    ]);
    assert.equal(server.sockets.length, 1, 'both exchanges on one connection');
    await server.close();
  });

  it('streams a large body with backpressure: the body is read only as fast as the upstream takes it', async () => {
    const total = 8 * 1024 * 1024;
    let serverRead = 0;
    let release: (() => void) | undefined;
    const server = await httpServer((req, res) => {
      req.pause();
      release = () => {
        req.on('data', (c: Buffer) => (serverRead += c.length));
        req.on('end', () => res.end(String(serverRead)));
        req.resume();
      };
    });
    const pool = new ConnectionPool(server.origin, { connectTimeoutMs: 2000 });
    pools.push(pool);
    let produced = 0;
    const chunk = Buffer.alloc(64 * 1024, 1);
    const body = new Readable({
      read() {
        if (produced >= total) return void this.push(null);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const r = send(pool, request({ method: 'POST', body }));
    await until(() => release !== undefined, 'the request to reach the server');
    // The server does not read: the socket fills, the body stream is paused, production stops.
    let last = -1;
    let still = 0;
    await until(() => {
      still = produced === last ? still + 1 : 0;
      last = produced;
      return still >= 10;
    }, 'the body stream to stop being read');
    assert.ok(produced < total, `only ${produced} of ${total} bytes were read while the upstream did not read`);
    release!();
    await r.done;
    assert.equal(r.body, String(total));
    assert.equal(produced, total);
    await server.close();
  });

  it('fails the exchange once and closes the connection when the body stream errors', async () => {
    const server = await rawServer(() => undefined);
    const pool = new ConnectionPool(server.origin, { connectTimeoutMs: 2000 });
    pools.push(pool);
    const body = new Readable({ read() {} });
    const r = send(pool, request({ method: 'POST', body }));
    body.push('part');
    await until(() => server.connections[0]?.received.includes('part') === true, 'the first part to reach the upstream');
    body.destroy(new Error('client went away'));
    await r.done;
    assert.deepEqual(r.calls, ['connect', 'error']);
    assert.equal(r.error?.message, 'client went away');
    await until(() => server.connections[0]!.closed, 'the upstream to see the connection close');
    await server.close();
  });

  it('fails the exchange when a streamed body is shorter than its content-length', async () => {
    const server = await httpServer((req) => req.resume());
    const pool = new ConnectionPool(server.origin, { connectTimeoutMs: 2000 });
    pools.push(pool);
    const r = send(pool, request({ method: 'POST', headers: ['content-length', '10'], body: Readable.from([Buffer.from('abc')]) }));
    await r.done;
    assert.equal(code(r.error), UpstreamErrorCode.requestBody);
    await server.close();
  });

  it('refuses a header value that would split the request head', async () => {
    const server = await httpServer((_req, res) => res.end());
    const pool = new ConnectionPool(server.origin, { connectTimeoutMs: 2000 });
    pools.push(pool);
    const r = send(pool, get('/', ['x-claim', 'a\r\nx-admin: 1']));
    await r.done;
    assert.equal(code(r.error), UpstreamErrorCode.invalidRequest);
    assert.equal(classifyFailure(r.error!), 'other');
    await server.close();
  });
});

describe('upstream connection pool: probe and close', () => {
  it('probes with the health-check user agent and resolves the status', async () => {
    const agents: (string | undefined)[] = [];
    const server = await httpServer((req, res) => {
      agents.push(req.headers['user-agent']);
      res.statusCode = req.url === '/healthz' ? 204 : 404;
      res.end('ignored body');
    });
    const pool = new ConnectionPool(server.origin, { connectTimeoutMs: 2000 });
    assert.equal(await pool.probe('/healthz', 1000), 204);
    assert.equal(await pool.probe('/nope', 1000), 404);
    assert.deepEqual(agents, ['sekisho-health-check', 'sekisho-health-check']);
    await pool.close();
    await server.close();
  });

  it('rejects a probe that gets no answer in time', async () => {
    const server = await rawServer(() => undefined);
    const pool = new ConnectionPool(server.origin, { connectTimeoutMs: 2000 });
    const started = Date.now();
    await assert.rejects(pool.probe('/healthz', 100), (error: NodeJS.ErrnoException) => {
      assert.equal(classifyFailure(error), 'timeout');
      return true;
    });
    assert.ok(Date.now() - started < 2000);
    await pool.close();
    await server.close();
  });

  it('close() closes idle connections, fails later requests, and resolves once in-flight ones are done', async () => {
    const held: ServerResponse[] = [];
    const server = await httpServer((req, res) => {
      if (req.url === '/slow') held.push(res);
      else res.end('fast');
    });
    const pool = new ConnectionPool(server.origin, { connectTimeoutMs: 2000 });
    await send(pool, get('/fast')).done;
    const slow = send(pool, get('/slow'));
    await until(() => held.length === 1, 'the slow request to arrive');
    assert.equal(pool.idleConnections, 0, 'the idle connection was reused for /slow');
    await send(pool, get('/fast')).done; // a second connection, idle afterwards
    assert.equal(pool.idleConnections, 1);

    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    assert.equal(pool.idleConnections, 0, 'idle connections close at once');
    const late = send(pool);
    await late.done;
    assert.equal(code(late.error), UpstreamErrorCode.transportClosed);
    assert.equal(classifyFailure(late.error!), 'reset');
    assert.deepEqual(late.calls, ['error']);

    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false, 'close() waits for the in-flight request');
    held[0]!.end('done at last');
    await closing;
    await slow.done;
    assert.equal(slow.body, 'done at last');
    assert.deepEqual(slow.calls.at(-1), 'complete');
    await server.close();
  });
});

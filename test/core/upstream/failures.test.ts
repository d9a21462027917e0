import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { ConnectionPool } from '../../../src/core/upstream/connection-pool.js';
import { classifyFailure, UpstreamErrorCode } from '../../../src/core/upstream/transport.js';
import { code, get, httpServer, rawServer, Recorder, request, until, type RawConnection } from './helpers.js';

function send(pool: ConnectionPool, req = get()): Recorder {
  const recorder = new Recorder();
  pool.dispatch(req, recorder);
  return recorder;
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

describe('upstream connection pool: failures', () => {
  const pools: ConnectionPool[] = [];
  const newPool = (origin: string, connectTimeoutMs = 2000): ConnectionPool => {
    const pool = new ConnectionPool(origin, { connectTimeoutMs });
    pools.push(pool);
    return pool;
  };
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  /**
   * The keep-alive race: the first connection answers its first request, then dies the moment a
   * second request arrives on it (as a server does that closed an idle connection just then).
   * Later connections answer normally.
   */
  const staleServer = (): ReturnType<typeof rawServer> =>
    rawServer((c: RawConnection, _head, index) => {
      if (c === firstConnection(c) && index === 1) c.socket.destroy();
      else c.socket.write(OK);
    });
  let first: RawConnection | undefined;
  const firstConnection = (c: RawConnection): RawConnection => (first ??= c);

  it('re-sends a GET once on a fresh connection when a reused connection turns out dead', async () => {
    first = undefined;
    const server = await staleServer();
    const pool = newPool(server.origin);
    await send(pool).done;
    const r = send(pool, get('/again'));
    await r.done;
    assert.equal(r.error, undefined);
    assert.equal(r.status, 200);
    assert.deepEqual(r.calls, ['connect', 'connect', 'headers 200', 'data', 'complete'], 'a second onConnect for the new connection');
    assert.equal(server.connections.length, 2);
    await server.close();
  });

  it('does not re-send a POST without idempotency-key: the error goes to the handler, classified reset', async () => {
    first = undefined;
    const server = await staleServer();
    const pool = newPool(server.origin);
    await send(pool).done;
    const r = send(pool, request({ method: 'POST', body: Buffer.from('pay') }));
    await r.done;
    assert.deepEqual(r.calls, ['connect', 'error']);
    assert.equal(classifyFailure(r.error!), 'reset', `code ${code(r.error)}`);
    assert.equal(server.connections.length, 1);
    await server.close();
  });

  it('re-sends a POST that carries an idempotency-key', async () => {
    first = undefined;
    const server = await staleServer();
    const pool = newPool(server.origin);
    await send(pool).done;
    const r = send(pool, request({ method: 'POST', headers: ['Idempotency-Key', 'k1'], body: Buffer.from('pay') }));
    await r.done;
    assert.equal(r.status, 200);
    assert.equal(server.connections.length, 2);
    await server.close();
  });

  it('does not re-send on a fresh connection: a first request that meets a close fails', async () => {
    const server = await rawServer((c) => c.socket.destroy());
    const pool = newPool(server.origin);
    const r = send(pool);
    await r.done;
    assert.deepEqual(r.calls, ['connect', 'error']);
    assert.equal(classifyFailure(r.error!), 'reset');
    assert.equal(server.connections.length, 1);
    await server.close();
  });

  it('reports a refused connection as ECONNREFUSED, a connect failure', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const pool = newPool(`http://127.0.0.1:${port}`);
    const r = send(pool);
    await r.done;
    assert.deepEqual(r.calls, ['connect', 'error']);
    assert.equal(code(r.error), 'ECONNREFUSED');
    assert.equal(classifyFailure(r.error!), 'connect-failure');
  });

  it('times out a TLS handshake the server never answers, as a connect failure', async () => {
    const server = await rawServer(() => undefined); // plain TCP: accepts, reads the ClientHello, says nothing
    const pool = newPool(`https://127.0.0.1:${server.port}`, 100);
    const started = Date.now();
    const r = send(pool);
    await r.done;
    const elapsed = Date.now() - started;
    assert.equal(code(r.error), UpstreamErrorCode.connectTimeout);
    assert.equal(classifyFailure(r.error!), 'connect-failure');
    assert.ok(elapsed >= 90 && elapsed < 2000, `timed out after ${elapsed} ms`);
    await until(() => server.connections[0]!.closed, 'the abandoned connection to close');
    await server.close();
  });

  it('times out a response head that does not come, classified timeout, and closes the connection', async () => {
    const server = await rawServer(() => undefined);
    const pool = newPool(server.origin);
    const started = Date.now();
    const r = send(pool, request({ headersTimeoutMs: 100 }));
    await r.done;
    const elapsed = Date.now() - started;
    assert.equal(code(r.error), UpstreamErrorCode.headersTimeout);
    assert.equal(classifyFailure(r.error!), 'timeout');
    assert.ok(elapsed >= 90 && elapsed < 2000, `timed out after ${elapsed} ms`);
    await until(() => server.connections[0]!.closed, 'the upstream to see the close');
    await server.close();
  });

  it('times out a body that stalls between chunks, after the head was delivered', async () => {
    const server = await rawServer((c) => c.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'));
    const pool = newPool(server.origin);
    const r = send(pool, request({ bodyTimeoutMs: 100 }));
    await r.done;
    assert.deepEqual(r.calls, ['connect', 'headers 200', 'data', 'error']);
    assert.equal(code(r.error), UpstreamErrorCode.bodyTimeout);
    assert.equal(classifyFailure(r.error!), 'other');
    await server.close();
  });

  it('does not count time the handler holds reading paused as body silence', async () => {
    const server = await rawServer((c) => c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n'));
    const pool = newPool(server.origin);
    const r = new Recorder();
    r.pauseOnHeaders = true;
    pool.dispatch(request({ bodyTimeoutMs: 50 }), r);
    await until(() => r.status === 200, 'the head');
    server.connections[0]!.socket.write('body'); // waits in the socket while the client is paused
    await new Promise((resolve) => setTimeout(resolve, 250)); // well past the body timeout, paused
    assert.deepEqual(r.calls, ['connect', 'headers 200'], 'neither data nor a timeout while paused');
    r.resume!();
    await r.done;
    assert.equal(r.error, undefined);
    assert.equal(r.body, 'body');
    await server.close();
  });

  it('fails, never completes, when the upstream closes mid-body', async () => {
    const server = await rawServer((c) => c.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf!'));
    const pool = newPool(server.origin);
    const r = send(pool);
    await r.done;
    assert.deepEqual(r.calls, ['connect', 'headers 200', 'data', 'error']);
    assert.equal(code(r.error), UpstreamErrorCode.closed);
    assert.equal(classifyFailure(r.error!), 'reset');
    await server.close();
  });

  it('fails on a malformed response with the parser\'s error code and never reuses the connection', async () => {
    const server = await rawServer((c, _head, index) => c.socket.write(index === 0 ? 'HTTP/1.1 2x0 Broken\r\n\r\n' : OK));
    const pool = newPool(server.origin);
    const r = send(pool);
    await r.done;
    assert.match(code(r.error) ?? '', /^HPE_/);
    assert.equal(pool.idleConnections, 0);
    await until(() => server.connections[0]!.closed, 'the broken connection to close');
    await server.close();
  });

  it('pauses the upstream while the handler says so, and completes once resumed', async () => {
    const total = 32 * 1024 * 1024;
    let serverSocket: RawConnection | undefined;
    const server = await rawServer((c) => {
      serverSocket = c;
      c.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
      c.socket.write(Buffer.alloc(total, 7));
    });
    const pool = newPool(server.origin);
    const r = new Recorder();
    r.pauseOnData = true;
    pool.dispatch(get(), r);
    // Paused: the client stops reading, the kernel buffers fill, the upstream's writes back up.
    let last = -1;
    let still = 0;
    await until(() => {
      const pending = serverSocket?.socket.writableLength ?? 0;
      still = pending > 0 && pending === last ? still + 1 : 0;
      last = pending;
      return still >= 10;
    }, 'the upstream writes to block', 10_000);
    const whilePaused = r.bytes;
    assert.ok(whilePaused < total, `received ${whilePaused} of ${total} while paused`);
    assert.ok(serverSocket!.socket.writableLength > 0, 'the upstream could not write all of it');
    r.pauseOnData = false;
    r.resume!();
    await r.done;
    assert.equal(r.error, undefined);
    assert.equal(r.bytes, total);
    await server.close();
  });

  it('abort mid-response: the handler gets the reason once, the upstream sees the close, the connection is not reused', async () => {
    const server = await rawServer((c) => c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst part'));
    const pool = newPool(server.origin);
    const r = new Recorder();
    const reason = new Error('client gone');
    r.onChunk = () => {
      r.abort!(reason);
      r.abort!(reason); // a second abort changes nothing
    };
    pool.dispatch(get(), r);
    await r.done;
    assert.deepEqual(r.calls, ['connect', 'headers 200', 'data', 'error']);
    assert.equal(r.error, reason);
    await until(() => server.connections[0]!.closed, 'the upstream to see the connection close');
    assert.equal(pool.idleConnections, 0);
    await server.close();
  });

  it('abort before the connection is up fails the exchange without sending it', async () => {
    const server = await httpServer((_req, res) => res.end());
    const pool = newPool(server.origin);
    const r = new AbortsAtConnect();
    pool.dispatch(get(), r);
    await r.done;
    assert.deepEqual(r.calls, ['connect', 'error']);
    assert.equal(code(r.error), UpstreamErrorCode.aborted);
    await server.close();
  });
});

class AbortsAtConnect extends Recorder {
  override onConnect(abort: (reason?: Error) => void): void {
    super.onConnect(abort);
    abort();
  }
}

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { HttpRequest, HttpResponse } from '../../../src/core/http1/message.js';
import { Http1Server, type Http1Limits } from '../../../src/core/http1/server.js';

const LIMITS: Http1Limits = { headersTimeoutMs: 300, requestTimeoutMs: 0, keepAliveTimeoutMs: 300, maxHeaderSize: 2048 };

/** A test connection that collects everything the server sends and notes when it closes. */
class Client {
  readonly socket: Socket;
  text = '';
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => {
      this.text += d;
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => {});
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Resolves once `test` holds for what was received (or the close); rejects after 3 s. */
  async until(test: (c: Client) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!test(this)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  responses(): number {
    return this.text.split('HTTP/1.1 ').length - 1;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

type Handler = (req: HttpRequest, res: HttpResponse) => void;

describe('HTTP/1.1 listener on llhttp', () => {
  let server: Http1Server;
  let port: number;
  let handler: Handler = () => {};

  before(async () => {
    server = new Http1Server((req, res) => handler(req, res), { limits: LIMITS });
    server.server.listen(0, '127.0.0.1');
    await once(server.server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await server.close();
  });

  it('keeps a connection alive and answers pipelined requests in order, one at a time', async () => {
    const pending: { req: HttpRequest; res: HttpResponse }[] = [];
    handler = (req, res) => void pending.push({ req, res });
    const c = new Client(port);
    c.send('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until(() => pending.length === 1, 'the first request');
    assert.equal(pending[0]!.req.url, '/a');
    // Answer /a only after a moment: /b must not start before /a's response is complete.
    await new Promise((r) => setImmediate(r));
    assert.equal(pending.length, 1);
    for (const expected of ['/a', '/b', '/c']) {
      const { req, res } = pending.at(-1)!;
      assert.equal(req.url, expected);
      res.writeHead(200, ['content-length', String(expected.length)]);
      res.end(expected);
      await c.until(() => c.text.endsWith(expected), `the response to ${expected}`);
    }
    assert.equal(c.responses(), 3);
    assert.equal(c.closed, false);
    assert.match(c.text, /^HTTP\/1\.1 200 OK\r\ncontent-length: 2\r\ndate: .+ GMT\r\n\r\n\/a/);
    c.socket.destroy();
  });

  it('reads one header as the header object would have it: any case, repeats joined, first only where node:http keeps one', async () => {
    const NAMES = ['origin', 'x-list', 'cookie', 'authorization', 'content-type', 'absent'];
    let seen: { one: (string | undefined)[]; object: (string | undefined)[] } | undefined;
    handler = (req, res) => {
      const one = NAMES.map((n) => req.header(n)); // before the object exists: the raw scan
      const object = NAMES.map((n) => req.headers[n] as string | undefined);
      seen = { one, object };
      assert.deepEqual(NAMES.map((n) => req.header(n)), object, 'the same once the object exists');
      res.writeHead(204, []);
      res.end();
    };
    const c = new Client(port);
    c.send(
      'GET / HTTP/1.1\r\nHost: x\r\nORIGIN: https://a.example\r\nX-List: 1\r\nx-list: 2\r\nCookie: a=1\r\ncookie: b=2\r\n' +
        'Authorization: Bearer one\r\nauthorization: Bearer two\r\nContent-Type: text/plain\r\n\r\n',
    );
    await c.until((cl) => cl.responses() === 1, 'the answer');
    assert.deepEqual(seen!.one, ['https://a.example', '1, 2', 'a=1; b=2', 'Bearer one', 'text/plain', undefined]);
    assert.deepEqual(seen!.one, seen!.object);
    c.socket.destroy();
  });

  it('chunks a body of unknown length for HTTP/1.1 and closes after it for HTTP/1.0', async () => {
    handler = (_req, res) => {
      res.writeHead(200, ['content-type', 'text/plain']);
      res.write(Buffer.from('hello '));
      res.end(Buffer.from('world'));
    };
    const c11 = new Client(port);
    c11.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await c11.until((c) => c.text.endsWith('0\r\n\r\n'), 'the last chunk');
    assert.match(c11.text, /transfer-encoding: chunked\r\n/);
    assert.match(c11.text, /\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n$/);
    assert.equal(c11.closed, false);
    c11.socket.destroy();

    const c10 = new Client(port);
    c10.send('GET / HTTP/1.0\r\n\r\n');
    await c10.until((c) => c.closed, 'the close');
    assert.doesNotMatch(c10.text, /transfer-encoding/);
    assert.match(c10.text, /connection: close\r\n\r\nhello world$/);
  });

  it('sends no body for HEAD, 204 and 304, whatever the handler writes', async () => {
    handler = (req, res) => {
      res.writeHead(req.url === '/204' ? 204 : req.url === '/304' ? 304 : 200, ['content-length', '5']);
      res.end(Buffer.from('body!'));
    };
    const c = new Client(port);
    c.send('HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET /200 HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until(() => c.text.endsWith('body!'), 'the GET body');
    assert.equal(c.text.split('body!').length - 1, 1, 'only the GET carries the body');
    assert.equal(c.responses(), 4);
    c.socket.destroy();
  });

  it('streams a request body with backpressure and sends 100 Continue only when the body is read', async () => {
    let request: HttpRequest | undefined;
    let response: HttpResponse | undefined;
    handler = (req, res) => {
      request = req;
      response = res;
    };
    const c = new Client(port);
    c.send('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n');
    await c.until(() => request !== undefined, 'the request head');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.text, '', 'no 100 Continue before anyone reads the body');
    const body = request!.openBody();
    let received = 0;
    body.on('data', (chunk: Buffer) => (received += chunk.length));
    await c.until(() => c.text === 'HTTP/1.1 100 Continue\r\n\r\n', '100 Continue');
    // Send far more than the stream buffers while it is paused: the socket must stop being read.
    body.pause();
    const part = Buffer.alloc(100_000, 'x');
    for (let i = 0; i < 10; i++) c.send(part);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(body.readableLength <= 200_000, `paused body holds ${body.readableLength} bytes`);
    body.resume();
    await once(body, 'end');
    assert.equal(received, 1_000_000);
    assert.equal(request!.complete, true);
    response!.writeHead(201, ['content-length', '0']);
    response!.end();
    await c.until(() => c.responses() === 2, 'the 201');
    c.socket.destroy();
  });

  it('reads heads split across many reads, and the heads after them, exactly', async () => {
    const seen: { url: string; headers: string[] }[] = [];
    handler = (req, res) => {
      seen.push({ url: req.url, headers: req.rawHeaders });
      res.writeHead(200, ['content-length', '0']);
      res.end();
    };
    // 40 header fields split mid-name, mid-value and mid-URL over several reads: llhttp hands
    // such heads over in parts, and keeps doing so for later heads on the connection.
    const fields = Array.from({ length: 40 }, (_, i) => [`X-Field-${i}`, `value ${i}`]);
    const head = `GET /first/long/path?q=1 HTTP/1.1\r\nHost: x\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
    const c = new Client(port);
    const cuts = [7, 20, 101, 333, head.length - 3];
    let from = 0;
    for (const cut of cuts) {
      c.send(head.slice(from, cut));
      from = cut;
      await new Promise((r) => setTimeout(r, 15));
    }
    c.send(head.slice(from) + 'GET /second HTTP/1.1\r\nHost: y\r\nX-Only: here\r\n\r\n');
    await c.until(() => c.responses() === 2, 'both responses');
    assert.equal(seen[0]!.url, '/first/long/path?q=1');
    assert.deepEqual(seen[0]!.headers, ['Host', 'x', ...fields.flat()]);
    assert.deepEqual(seen[1], { url: '/second', headers: ['Host', 'y', 'X-Only', 'here'] });
    c.socket.destroy();
  });

  it('drops request trailers: they never become headers of the next request on the connection', async () => {
    const seen: { url: string; headers: string[] }[] = [];
    handler = (req, res) => {
      seen.push({ url: req.url, headers: req.rawHeaders });
      const body = req.openBody();
      body.resume();
      body.on('end', () => {
        res.writeHead(200, ['content-length', '0']);
        res.end();
      });
    };
    const c = new Client(port);
    c.send('POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Smuggled: 1\r\n\r\nGET /b HTTP/1.1\r\nHost: y\r\n\r\n');
    await c.until(() => c.responses() === 2, 'both responses');
    assert.deepEqual(seen, [
      { url: '/a', headers: ['Host', 'x', 'Transfer-Encoding', 'chunked'] },
      { url: '/b', headers: ['Host', 'y'] },
    ]);
    c.socket.destroy();
  });

  it('answers malformed framing with a problem document and closes, without calling the handler', async () => {
    let called = false;
    handler = () => void (called = true);
    const c = new Client(port);
    c.send('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n');
    await c.until((x) => x.closed, 'the close');
    assert.match(c.text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(c.text, /content-type: application\/problem\+json/);
    assert.equal(JSON.parse(c.text.slice(c.text.indexOf('\r\n\r\n') + 4)).code, 'bad_request');
    assert.equal(called, false);
  });

  it('refuses a head over maxHeaderSize with 431', async () => {
    const c = new Client(port);
    c.send(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(4000)}\r\n\r\n`);
    await c.until((x) => x.closed, 'the close');
    assert.match(c.text, /^HTTP\/1\.1 431 /);
  });

  it('answers a head that does not arrive within headersTimeout with 408, and closes idle keep-alive connections', async () => {
    handler = (_req, res) => {
      res.writeHead(200, ['content-length', '0']);
      res.end();
    };
    const slow = new Client(port);
    const started = Date.now();
    slow.send('GET / HTTP/1.1\r\nHost: x\r\n');
    await slow.until((x) => x.closed, 'the close');
    assert.match(slow.text, /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - started >= LIMITS.headersTimeoutMs, 'not before the timeout');

    const idle = new Client(port);
    idle.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.until((x) => x.responses() === 1, 'the response');
    const answered = Date.now();
    await idle.until((x) => x.closed, 'the idle close');
    assert.ok(Date.now() - answered >= LIMITS.keepAliveTimeoutMs - 20, 'kept for the keep-alive timeout');
    assert.equal(idle.responses(), 1, 'closed silently');
  });

  it('tells the response when the client goes away mid-response', async () => {
    let closedWith: boolean | undefined;
    let response: HttpResponse | undefined;
    handler = (_req, res) => {
      response = res;
      res.whenClosed((r: HttpResponse) => (closedWith = r.writableFinished), res);
      res.writeHead(200, ['content-length', '100']);
      res.write(Buffer.from('partial'));
    };
    const c = new Client(port);
    c.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until((x) => x.text.endsWith('partial'), 'the partial body');
    c.socket.destroy();
    await new Promise<void>((resolve) => {
      const check = (): void => void (closedWith === undefined ? setTimeout(check, 10) : resolve());
      check();
    });
    assert.equal(closedWith, false);
    assert.equal(response!.destroyed, true);
  });

  it('asks clients to close once the server is closing, and closes idle connections at once', async () => {
    let held: HttpResponse | undefined;
    const local = new Http1Server((req, res) => {
      if (req.url === '/hold') held = res;
      else {
        res.writeHead(200, ['content-length', '2']);
        res.end('ok');
      }
    }, { limits: { ...LIMITS, keepAliveTimeoutMs: 60_000 } });
    local.server.listen(0, '127.0.0.1');
    await once(local.server, 'listening');
    const idle = new Client(local.address().port);
    idle.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.until((x) => x.responses() === 1, 'the response');
    const busy = new Client(local.address().port);
    busy.send('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await busy.until(() => held !== undefined, 'the held request');
    const closed = local.close();
    local.closeIdleConnections();
    await idle.until((x) => x.closed, 'the idle connection closed');
    assert.equal(busy.closed, false, 'a connection with a request in flight stays');
    held!.writeHead(200, ['content-length', '4']);
    held!.end('done');
    await busy.until((x) => x.closed, 'the busy connection closed after its response');
    assert.match(busy.text, /connection: close\r\n\r\ndone$/);
    await closed;
  });
});

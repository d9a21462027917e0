import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { eventually, send } from '../helpers/http.js';
import { rawRequest, type RawOutcome } from '../helpers/raw.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';

function chunk(size: number, fill = 'x'): string {
  return `${size.toString(16)}\r\n${fill.repeat(size)}\r\n`;
}

function assertProblem(outcome: RawOutcome, status: number, reason: string): void {
  assert.equal(outcome.status, status, JSON.stringify(outcome));
  assert.equal(outcome.headers['content-type'], 'application/problem+json');
  assert.equal(outcome.headers['x-sekisho-reason'], reason);
  assert.equal((JSON.parse(outcome.body) as { status: number }).status, status);
}

describe('gateway limits: body size, header count and size, slow heads', () => {
  let app: Upstream;
  let gw: GatewayProc;
  let port: number;

  before(async () => {
    app = await startUpstream('app');
    gw = await startGateway(`
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  maxBodySize: 1kb
  limits: { maxHeaderCount: 20, maxHeaderSize: 8kb, headersTimeout: 1s }
  routes: [{ name: app, match: { pathPrefix: / }, service: app }]
services:
  app: { endpoints: [${app.url}] }
`);
    port = Number(new URL(gw.url).port);
  });
  after(stopAll);

  async function upstreamSaw(): Promise<{ url: string; headers: Record<string, string> }[]> {
    return (await send(`${app.url}/control/seen`)).json();
  }

  it('refuses a Content-Length over maxBodySize with 413 before contacting the upstream', async () => {
    await send(`${app.url}/control/forget`);
    const head = 'POST /upload HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 2000\r\n\r\n';
    const outcome = await rawRequest(port, [head, 'x'.repeat(2000)], { awaitClose: true });
    assertProblem(outcome, 413, 'body_too_large');
    assert.equal(outcome.closed, true);
    assert.deepEqual(await upstreamSaw(), []);
  });

  it('answers Expect: 100-continue with the 413 itself, so the oversized body is never sent', async () => {
    const head = 'POST /upload HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n';
    const outcome = await rawRequest(port, [head], { awaitClose: true });
    assertProblem(outcome, 413, 'body_too_large');
  });

  it('sends 100 Continue for a body within the limit once the upstream takes it', async () => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    socket.write('POST /upload HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n');
    await eventually(async () => (/^HTTP\/1\.1 100 Continue\r\n\r\n$/.test(received) ? true : undefined), 3000, '100 Continue');
    socket.write('0123456789');
    await eventually(async () => (/HTTP\/1\.1 200 OK[\s\S]*"bytes":10/.test(received) ? true : undefined), 3000, 'the 200');
    socket.destroy();
  });

  it('streams a body within the limit', async () => {
    const r = await send(`${gw.url}/upload`, { method: 'POST', body: 'y'.repeat(1024) });
    assert.equal(r.status, 200);
    assert.equal(r.json().bytes, 1024);
  });

  it('forwards a chunked body within the limit whole, with its length', async () => {
    await send(`${app.url}/control/forget`);
    const head = 'POST /upload HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n';
    const outcome = await rawRequest(port, [head, chunk(300), chunk(300), chunk(300) + '0\r\n\r\n'], { gapMs: 20 });
    assert.equal(outcome.status, 200);
    assert.equal((JSON.parse(outcome.body) as { bytes: number }).bytes, 900);
    const [seen] = await upstreamSaw();
    assert.equal(seen?.headers['content-length'], '900');
    assert.equal(seen?.headers['transfer-encoding'], undefined);
  });

  it('refuses a chunked body that grows past the limit mid-stream, before the upstream sees any of it', async () => {
    await send(`${app.url}/control/forget`);
    const head = 'POST /upload HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n';
    const outcome = await rawRequest(port, [head, chunk(600), chunk(600)], { gapMs: 100, awaitClose: true });
    assertProblem(outcome, 413, 'body_too_large');
    assert.equal(outcome.closed, true);
    assert.deepEqual(await upstreamSaw(), []);
  });

  it('refuses more header fields than maxHeaderCount with 431', async () => {
    const headers = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    const tooMany = await rawRequest(port, [`GET /echo HTTP/1.1\r\nHost: gw.test\r\n${headers(20)}\r\n`], { awaitClose: true });
    assertProblem(tooMany, 431, 'bad_request');
    assert.equal(tooMany.closed, true);
    const fine = await rawRequest(port, [`GET /echo HTTP/1.1\r\nHost: gw.test\r\n${headers(19)}\r\n`]);
    assert.equal(fine.status, 200);
  });

  it('refuses a head over maxHeaderSize with 431', async () => {
    const outcome = await rawRequest(port, [`GET /echo HTTP/1.1\r\nHost: gw.test\r\nX-Big: ${'b'.repeat(10_000)}\r\n\r\n`], { awaitClose: true });
    assertProblem(outcome, 431, 'bad_request');
    assert.equal(outcome.closed, true);
  });

  it('cuts a head trickling in slower than headersTimeout with 408 (slowloris)', async () => {
    const parts = ['GET /echo HTTP/1.1\r\n', 'Host: gw.test\r\n', ...Array.from({ length: 20 }, (_, i) => `X-Slow-${i}: ${i}\r\n`)];
    const outcome = await rawRequest(port, parts, { gapMs: 250, awaitClose: true, timeoutMs: 8_000 });
    assertProblem(outcome, 408, 'bad_request');
    assert.equal(outcome.closed, true);
    assert.ok(outcome.elapsedMs < 4_000, `cut after ${outcome.elapsedMs} ms, the head would have taken 5 s`);
  });

  it('closes a connection that never sends a request', async () => {
    const outcome = await rawRequest(port, [], { awaitClose: true, timeoutMs: 8_000 });
    assert.equal(outcome.closed, true);
    assert.ok(outcome.elapsedMs < 5_000, `closed after ${outcome.elapsedMs} ms`);
  });
});

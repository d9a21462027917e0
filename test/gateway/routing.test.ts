import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, send, sendWithNodeHttp } from '../helpers/http.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';

describe('gateway routing through real sockets', () => {
  let billing: Upstream;
  let upload: Upstream;
  let docs: Upstream;
  let gw: GatewayProc;

  before(async () => {
    [billing, upload, docs] = await Promise.all([startUpstream('billing'), startUpstream('upload'), startUpstream('docs')]);
    gw = await startGateway(`
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes:
    - name: upload
      match: { pathPrefix: /api/upload, methods: [POST] }
      service: upload
      stripPrefix: /api
    - name: billing
      match: { pathPrefix: /api/billing }
      service: billing
      stripPrefix: /api
    - name: docs-host
      match: { host: docs.example.com }
      service: docs
    - name: v2
      match: { pathPrefix: /v2/billing }
      service: billing
      rewrite: { prefix: /billing/v2 }
services:
  billing: { endpoints: [${billing.url}] }
  upload: { endpoints: [${upload.url}] }
  docs: { endpoints: [${docs.url}] }
`);
  });
  after(stopAll);

  it('routes by prefix and strips it', async () => {
    const r = await send(`${gw.url}/api/billing/charge?x=1`);
    assert.equal(r.status, 200);
    const body = r.json<{ name: string; url: string }>();
    assert.equal(body.name, 'billing');
    assert.equal(body.url, '/billing/charge?x=1');
  });

  it('matches prefixes on segment boundaries only', async () => {
    const r = await send(`${gw.url}/api/billingx`);
    assert.equal(r.status, 404);
  });

  it('honours method conditions', async () => {
    assert.equal((await send(`${gw.url}/api/upload/file`, { method: 'POST', body: 'x' })).json().name, 'upload');
    assert.equal((await send(`${gw.url}/api/upload/file`)).status, 404);
  });

  it('routes by host ahead of paths', async () => {
    const r = await send(`${gw.url}/api/billing/x`, { headers: { host: 'docs.example.com' } });
    assert.equal(r.json().name, 'docs');
  });

  it('rewrites a prefix', async () => {
    const r = await send(`${gw.url}/v2/billing/invoices`);
    assert.equal(r.json().url, '/billing/v2/invoices');
  });

  it('answers 404 no_route as problem+json', async () => {
    const r = await send(`${gw.url}/nowhere`);
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'application/problem+json');
    assert.equal(r.headers['x-sekisho-reason'], 'no_route');
    const p = r.json();
    assert.equal(p.type, 'https://sekisho.dev/problems/no_route');
    assert.equal(p.title, 'Not Found');
    assert.equal(p.status, 404);
    assert.equal(p.code, 'no_route');
    assert.match(String(p.detail), /\/nowhere/);
    assert.equal(p.requestId, r.headers['x-request-id']);
  });

  it('normalizes the path once and forwards exactly that', async () => {
    const r = await send(`${gw.url}/api/x/../billing//%61bc/./d`);
    assert.equal(r.json().url, '/billing/abc/d');
    const bad = await send(`${gw.url}/api/billing/a%2Fb`);
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['x-sekisho-reason'], 'bad_request');
  });

  it('sets request id, trace context and X-Forwarded-*, removes hop-by-hop headers', async () => {
    const r = await sendWithNodeHttp(`${gw.url}/api/billing/h`, {
      connection: 'keep-alive, x-drop-me', 'x-drop-me': '1', 'keep-alive': 'timeout=5', 'x-forwarded-for': '6.6.6.6', 'x-sekisho-peer': 'spiffe://evil',
    });
    const h = r.json<{ headers: Record<string, string> }>().headers;
    assert.match(h['x-request-id']!, /^[0-9a-f-]{36}$/);
    assert.equal(h['x-request-id'], r.headers['x-request-id']);
    assert.match(h['traceparent']!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(h['x-forwarded-for'], '127.0.0.1', 'an untrusted client cannot add to X-Forwarded-For');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], gw.url.slice('http://'.length));
    assert.equal(h['x-drop-me'], undefined);
    assert.equal(h['keep-alive'], undefined);
    assert.equal(h['x-sekisho-peer'], undefined);
  });

  it('passes a client request id and a valid traceparent on unchanged', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const r = await send(`${gw.url}/api/billing/t`, { headers: { 'x-request-id': 'abc-123', traceparent } });
    const h = r.json<{ headers: Record<string, string> }>().headers;
    assert.equal(h['x-request-id'], 'abc-123');
    assert.equal(h['traceparent'], traceparent);
  });

  it('writes one JSON access log line per request', async () => {
    const r = await send(`${gw.url}/api/billing/logged`, { headers: { 'x-request-id': 'log-me' } });
    assert.equal(r.status, 200);
    const line = await eventually(async () => gw.proc.logs().find((l) => l['requestId'] === 'log-me'));
    assert.equal(line['msg'], 'request');
    assert.equal(line['method'], 'GET');
    assert.equal(line['path'], '/api/billing/logged');
    assert.equal(line['route'], 'billing');
    assert.equal(line['service'], 'billing');
    assert.equal(line['upstream'], `127.0.0.1:${billing.port}`);
    assert.equal(line['status'], 200);
    assert.equal(typeof line['duration'], 'number');
    assert.ok((line['bytes'] as number) > 0);
    assert.match(String(line['traceId']), /^[0-9a-f]{32}$/);
  });
});

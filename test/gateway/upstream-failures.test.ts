import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { send } from '../helpers/http.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';

/** A port nothing listens on: bound once by an upstream that then exits. */
async function deadPort(): Promise<number> {
  const u = await startUpstream('gone');
  await u.proc.stop();
  return u.port;
}

describe('upstream failures become problem documents, never a crash or a hang', () => {
  let app: Upstream;
  let gw: GatewayProc;

  before(async () => {
    app = await startUpstream('app');
    const dead = await deadPort();
    gw = await startGateway(`
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes:
    - { name: app, match: { pathPrefix: /app }, service: app }
    - { name: dead, match: { pathPrefix: /dead }, service: dead }
services:
  app: { endpoints: [${app.url}], timeout: 500ms, idleTimeout: 500ms }
  dead: { endpoints: ["http://127.0.0.1:${dead}"], outlierDetection: { consecutiveGatewayFailure: 0 } }
`);
  });
  after(stopAll);

  function assertProblem(r: Awaited<ReturnType<typeof send>>, status: number, code: string): void {
    assert.equal(r.status, status, r.text);
    assert.equal(r.headers['content-type'], 'application/problem+json');
    assert.equal(r.headers['x-sekisho-reason'], code);
    const p = r.json();
    assert.equal(p.code, code);
    assert.equal(p.status, status);
    assert.equal(p.type, `https://sekisho.dev/problems/${code}`);
  }

  it('connection refused → 503 upstream_unavailable', async () => {
    assertProblem(await send(`${gw.url}/dead/x`), 503, 'upstream_unavailable');
  });

  it('connection reset before a response → 502 upstream_unavailable', async () => {
    assertProblem(await send(`${gw.url}/app/reset`), 502, 'upstream_unavailable');
  });

  it('a hanging upstream → 504 upstream_timeout at the configured timeout', async () => {
    const started = Date.now();
    const r = await send(`${gw.url}/app/hang`);
    const elapsed = Date.now() - started;
    assertProblem(r, 504, 'upstream_timeout');
    assert.ok(elapsed >= 450, `answered after ${elapsed} ms, before the 500 ms timeout`);
    assert.ok(elapsed < 3000, `answered after ${elapsed} ms`);
  });

  it('an upstream dying mid-response breaks the client connection instead of faking success', async () => {
    const res = await request(`${gw.url}/app/die-mid`);
    assert.equal(res.statusCode, 200);
    await assert.rejects(res.body.arrayBuffer());
  });

  it('the gateway keeps serving after all of that', async () => {
    const r = await send(`${gw.url}/app/echo`);
    assert.equal(r.status, 200);
    assert.equal(r.json().name, 'app');
    assert.equal(gw.proc.child.exitCode, null);
  });

  it('a crashed upstream process yields 503 and the gateway stays up', async () => {
    await app.proc.stop('SIGKILL');
    assertProblem(await send(`${gw.url}/app/echo`), 503, 'upstream_unavailable');
    const live = await send(`${gw.adminUrl}/live`);
    assert.equal(live.status, 200);
  });
});

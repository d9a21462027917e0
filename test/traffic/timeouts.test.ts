import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, send } from '../helpers/http.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';

describe('timeouts: overall and per try', () => {
  let app: Upstream;
  let gw: GatewayProc;

  before(async () => {
    app = await startUpstream('app');
    gw = await startGateway(`
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes:
    - { name: plain, match: { pathPrefix: /plain }, service: plain, stripPrefix: /plain }
    - { name: per-try, match: { pathPrefix: /per-try }, service: per-try, stripPrefix: /per-try }
    - { name: deadline, match: { pathPrefix: /deadline }, service: deadline, stripPrefix: /deadline }
services:
  plain: { endpoints: [${app.url}], timeout: 500ms }
  per-try:
    endpoints: [${app.url}]
    timeout: 5s
    retries: { attempts: 3, perTryTimeout: 300ms, on: [504], backoff: 1ms..2ms, budget: 100% }
  deadline:
    endpoints: [${app.url}]
    timeout: 1s
    retries: { attempts: 10, perTryTimeout: 400ms, on: [504], backoff: 1ms..2ms, budget: 100% }
`);
  });
  after(stopAll);

  async function aborted(): Promise<number> {
    return (await send(`${app.url}/control/stats`)).json<{ aborted: number }>().aborted;
  }

  it('a hanging upstream gives 504 at the timeout, and the upstream sees its request aborted', async () => {
    const before = await aborted();
    const started = Date.now();
    const r = await send(`${gw.url}/plain/hang?case=plain`);
    const elapsed = Date.now() - started;
    assert.equal(r.status, 504);
    assert.equal(r.headers['x-sekisho-reason'], 'upstream_timeout');
    assert.equal(r.json().code, 'upstream_timeout');
    assert.ok(elapsed >= 450 && elapsed < 2500, `answered after ${elapsed} ms`);
    await app.proc.waitForLine((l) => l === 'aborted /hang?case=plain', 5000);
    assert.equal(await eventually(async () => ((await aborted()) === before + 1 ? true : undefined), 5000), true);
  });

  it('each try is bounded by perTryTimeout and aborted before the next', async () => {
    const before = await aborted();
    const started = Date.now();
    const r = await send(`${gw.url}/per-try/hang?case=per-try`);
    const elapsed = Date.now() - started;
    assert.equal(r.status, 504);
    assert.match(r.json().detail as string, /after 3 attempts/);
    assert.ok(elapsed >= 850 && elapsed < 4000, `answered after ${elapsed} ms (3 tries of 300 ms)`);
    await eventually(async () => ((await aborted()) === before + 3 ? true : undefined), 5000, 'three aborted tries');
    // The access log is written asynchronously: wait for the line rather than expect it already.
    const line = await eventually(async () => gw.proc.logs().find((l) => l.msg === 'request' && String(l.path).includes('/per-try/hang')));
    assert.equal(line.attempts, 3);
    assert.equal(line.reason, 'upstream_timeout');
  });

  it('retries never outlive the overall deadline', async () => {
    const before = await aborted();
    const started = Date.now();
    const r = await send(`${gw.url}/deadline/hang?case=deadline`);
    const elapsed = Date.now() - started;
    assert.equal(r.status, 504);
    assert.ok(elapsed >= 950 && elapsed < 3000, `answered after ${elapsed} ms; the deadline is 1 s (10 tries would take 4 s)`);
    const tries = await eventually(async () => {
      const n = (await aborted()) - before;
      return n >= 3 ? n : undefined;
    }, 5000);
    assert.ok(tries <= 3, `${tries} tries within a 1 s deadline of 400 ms tries`);
  });
});

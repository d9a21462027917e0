import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, send } from '../helpers/http.js';
import { getLoad, metricValue } from '../helpers/load.js';
import { startGateway, startUpstream, stopAll } from '../helpers/processes.js';

describe('fault injection', () => {
  after(stopAll);

  it('aborts a share of requests with the configured status and delays another, before the upstream', async () => {
    const app = await startUpstream('app');
    const gw = await startGateway(`
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes:
    - { name: abort, match: { pathPrefix: /abort }, service: abort }
    - { name: half, match: { pathPrefix: /half }, service: half }
    - { name: delay, match: { pathPrefix: /delay }, service: delay }
services:
  abort: { endpoints: [${app.url}], fault: { abort: { percent: 100, status: 500 } } }
  half: { endpoints: [${app.url}], fault: { abort: { percent: 50, status: 503 } } }
  delay: { endpoints: [${app.url}], timeout: 100ms, fault: { delay: { percent: 100, duration: 300ms } } }
`);
    const aborted = await send(`${gw.url}/abort/echo`);
    assert.equal(aborted.status, 500);
    assert.equal(aborted.headers['content-type'], 'application/problem+json');
    assert.equal(aborted.headers['x-sekisho-reason'], 'upstream_unavailable');
    assert.match(aborted.json().detail as string, /fault injection/);
    assert.equal((await send(`${app.url}/control/stats`)).json().requests, 0, 'the upstream was never contacted');

    const half = await getLoad(`${gw.url}/half/echo`, 400, 8);
    const share = half.replies.filter((r) => r.status === 503).length / 4;
    assert.ok(share > 40 && share < 60, `${share}% aborted at 50%`);

    const started = Date.now();
    const delayed = await send(`${gw.url}/delay/echo`);
    const elapsed = Date.now() - started;
    assert.equal(delayed.status, 200, 'the delay comes before the timeout starts');
    assert.ok(elapsed >= 290, `answered after ${elapsed} ms`);

    const metrics = (await send(`${gw.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'sekisho_faults_injected_total', { service: 'delay', kind: 'delay' }), 1);
    const line = await eventually(async () => gw.proc.logs().find((l) => l.msg === 'request' && l.path === '/abort/echo'));
    assert.equal(line.detail, 'fault injection: abort');
  });
});

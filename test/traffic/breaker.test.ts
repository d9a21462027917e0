import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, send } from '../helpers/http.js';
import { metricValue, runLoad } from '../helpers/load.js';
import { oneServiceGateway } from '../helpers/configs.js';
import { startGateway, startUpstream, stopAll } from '../helpers/processes.js';

describe('circuit breaker', () => {
  after(stopAll);

  it('answers overflow with 503 circuit_open at once, serves the admitted and queued requests', async () => {
    const app = await startUpstream('app');
    const gw = await startGateway(oneServiceGateway([app.url], 'circuitBreaker: { maxRequests: 2, maxPending: 1 }'));
    const timings: number[] = [];
    const started = Date.now();
    const slow = runLoad(3, 3, async (_i, dispatcher) => send(`${gw.url}/slow?ms=1500`, { dispatcher }));
    // Wait until the three fill both slots and the queue, then overflow.
    await eventually(async () => {
      const view = (await send(`${gw.adminUrl}/clusters`)).json<{ services: { circuitBreaker: { active: number; pending: number } }[] }>();
      const b = view.services[0]!.circuitBreaker;
      return b.active === 2 && b.pending === 1 ? true : undefined;
    }, 5000, 'slots and queue full');
    const overflow = await runLoad(4, 4, async (_i, dispatcher) => {
      const t = Date.now();
      const r = await send(`${gw.url}/echo`, { dispatcher });
      timings.push(Date.now() - t);
      return r;
    });
    for (const r of overflow.replies) {
      assert.equal(r.status, 503);
      assert.equal(r.headers['x-sekisho-reason'], 'circuit_open');
    }
    assert.ok(Math.max(...timings) < 1000, `overflow answered after ${Math.max(...timings)} ms, not at once`);
    const metrics = (await send(`${gw.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'sekisho_circuit_open', { service: 'app' }), 1);

    const admitted = await slow;
    assert.deepEqual(admitted.replies.map((r) => r.status), [200, 200, 200]);
    assert.ok(Date.now() - started >= 2900, 'the queued request waited for a slot');
    const after = (await send(`${gw.adminUrl}/metrics`)).text;
    assert.equal(metricValue(after, 'sekisho_circuit_open', { service: 'app' }), 0);
    assert.equal((await send(`${gw.url}/echo`)).status, 200);
  });

  it('a queued request gives up at its timeout instead of waiting forever', async () => {
    const app = await startUpstream('app');
    const gw = await startGateway(`
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes:
    - { name: long, match: { pathPrefix: /hang }, service: app, timeout: 3s }
    - { name: short, match: { pathPrefix: / }, service: app, timeout: 400ms }
services:
  app: { endpoints: [${app.url}], circuitBreaker: { maxRequests: 1, maxPending: 5 } }
`);
    const hanging = send(`${gw.url}/hang`);
    await eventually(async () => ((await send(`${app.url}/control/stats`)).json().requests === 1 ? true : undefined), 5000);
    const started = Date.now();
    const queued = await send(`${gw.url}/echo`);
    assert.equal(queued.status, 503);
    assert.equal(queued.headers['x-sekisho-reason'], 'circuit_open');
    const waited = Date.now() - started;
    assert.ok(waited >= 350 && waited < 2000, `gave up after ${waited} ms`);
    assert.equal((await hanging).status, 504);
  });
});

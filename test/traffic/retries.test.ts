import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, send } from '../helpers/http.js';
import { getLoad, metricValue, runLoad } from '../helpers/load.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';
import { gatewayForApp } from '../helpers/configs.js';

interface Stats {
  requests: number;
  effects: number;
  distinctRequestIds: number;
  repeatedRequestIds: number;
}

async function stats(u: Upstream): Promise<Stats> {
  return (await send(`${u.url}/control/stats`)).json<Stats>();
}

describe('retries against an upstream failing 30% of requests', () => {
  let flaky: Upstream;
  let gw: GatewayProc;

  before(async () => {
    flaky = await startUpstream('flaky');
    // 8 attempts: a request fails only when all of them do (0.3^8 ≈ 0.007%). The budget is
    // sized for a 30% failure rate (≈ 0.43 retries per request).
    gw = await startGateway(gatewayForApp(`
    endpoints: [${flaky.url}]
    timeout: 5s
    retries: { attempts: 8, on: [connect-failure, reset, 503], backoff: 1ms..5ms, budget: 100% }
`));
  });
  after(stopAll);

  it('GETs succeed ≥ 99.9% of the time, and the retries are counted', async () => {
    const load = await getLoad(`${gw.url}/flaky?p=0.3&mode=mixed`, 1000, 16);
    const ok = load.replies.filter((r) => r.status === 200).length;
    assert.equal(load.errors.length, 0);
    assert.ok(ok >= 999, `only ${ok} of 1000 succeeded`);
    const metrics = (await send(`${gw.adminUrl}/metrics`)).text;
    const retries = metricValue(metrics, 'sekisho_upstream_retries_total', { service: 'app' });
    assert.ok(retries > 200 && retries < 800, `retries ${retries}`);
    const s = await stats(flaky);
    // Beyond the requests and the counted retries, the only arrivals are the transport's own
    // re-sends: a GET whose reused keep-alive connection was reset before any response byte goes
    // out once more on a fresh connection (the stale-connection rule, as Go's net/http), and the
    // policy never sees that attempt. So each extra arrival follows a reset, and resets are the
    // effects that produced no answer (the fixture counts the effect, then destroys the socket).
    const resets = s.effects - ok;
    const resent = s.requests - (1000 + retries);
    assert.ok(resent >= 0, `${s.requests} arrivals, fewer than ${1000 + retries} requests and counted retries`);
    assert.ok(resent <= resets, `${resent} uncounted arrivals but only ${resets} resets`);
  });

  it('POSTs without Idempotency-Key are never repeated once they may have reached the app', async () => {
    const before = await stats(flaky);
    const load = await runLoad(500, 16, (i, dispatcher) =>
      send(`${gw.url}/flaky?p=0.3&mode=mixed`, { method: 'POST', body: `order ${i}`, dispatcher }),
    );
    const after = await stats(flaky);
    assert.equal(after.distinctRequestIds - before.distinctRequestIds, 500);
    assert.equal(after.repeatedRequestIds, before.repeatedRequestIds, 'a POST arrived twice');
    assert.equal(after.requests - before.requests, 500);
    const failed = load.replies.filter((r) => r.status !== 200);
    assert.ok(failed.length > 50, 'the failures reach the client instead');
    for (const r of failed) assert.ok(r.status === 503 || r.status === 502, `status ${r.status}`);
  });

  it('POSTs with Idempotency-Key are retried: ≥ 99.9% succeed and each effect happens once', async () => {
    const before = await stats(flaky);
    const load = await runLoad(1000, 16, (i, dispatcher) =>
      send(`${gw.url}/flaky?p=0.3&mode=mixed`, { method: 'POST', body: `payment ${i}`, headers: { 'idempotency-key': `pay-${i}` }, dispatcher }),
    );
    const ok = load.replies.filter((r) => r.status === 200).length;
    assert.ok(ok >= 999, `only ${ok} of 1000 succeeded`);
    const after = await stats(flaky);
    assert.equal(after.effects - before.effects, 1000, 'exactly one effect per payment');
    assert.ok(after.requests - before.requests > 1000, 'some were retried');
  });
});

describe('retries of requests that provably never left', () => {
  it('a POST refused by a dead instance goes to the live one, exactly once', async () => {
    const live = await startUpstream('live');
    const dead = await startUpstream('dead');
    await dead.proc.stop('SIGKILL');
    const gw = await startGateway(gatewayForApp(`
    endpoints: [${live.url}, ${dead.url}]
    outlierDetection: { consecutiveGatewayFailure: 0 }
    retries: { attempts: 2, backoff: 1ms..5ms, budget: 100% }
`));
    try {
      const load = await runLoad(100, 4, (i, dispatcher) => send(`${gw.url}/flaky?p=0`, { method: 'POST', body: `n=${i}`, dispatcher }));
      assert.deepEqual(load.replies.map((r) => r.status), Array(100).fill(200));
      const s = await stats(live);
      assert.equal(s.distinctRequestIds, 100);
      assert.equal(s.repeatedRequestIds, 0);
      const lines = gw.proc.logs().filter((l) => l.msg === 'request' && l.attempts === 2);
      assert.ok(lines.length > 0, 'the access log shows the second attempts');
    } finally {
      await stopAll();
    }
  });
});

describe('the retry budget stops a retry storm', () => {
  it('holds total upstream load under its cap when the upstream fails every request', async () => {
    const down = await startUpstream('down');
    const gw = await startGateway(gatewayForApp(`
    endpoints: [${down.url}]
    retries: { attempts: 5, on: [503], backoff: 1ms..2ms, budget: 20%, minRetriesPerSecond: 5 }
`));
    try {
      const n = 400;
      const load = await getLoad(`${gw.url}/status/503`, n, 8);
      assert.ok(load.replies.every((r) => r.status === 503));
      const upstreamLoad = (await stats(down)).requests;
      const seconds = Math.ceil(load.elapsedMs / 1000) + 1;
      const cap = n * 1.2 + 5 * seconds;
      assert.ok(upstreamLoad <= cap, `upstream saw ${upstreamLoad} requests; cap ${cap} (without a budget: ${n * 5})`);
      assert.ok(upstreamLoad > n, 'some retries were allowed');
      const metrics = (await send(`${gw.adminUrl}/metrics`)).text;
      assert.ok(metricValue(metrics, 'sekisho_retry_budget_exhausted_total', { service: 'app' }) > 0);
      assert.equal(metricValue(metrics, 'sekisho_upstream_retries_total', { service: 'app' }), upstreamLoad - n);
      // The access log is asynchronous: wait for the line (eventually fails the test if it never comes).
      await eventually(
        async () => gw.proc.logs().find((l) => l.msg === 'request' && String(l.detail).includes('retry budget exhausted')),
        5000,
        'an access log line saying why a request was not retried',
      );
    } finally {
      await stopAll();
    }
  });
});

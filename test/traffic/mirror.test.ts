import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, send } from '../helpers/http.js';
import { getLoad, metricValue, runLoad } from '../helpers/load.js';
import { startGateway, startUpstream, stopAll } from '../helpers/processes.js';
import { gatewayForApp } from '../helpers/configs.js';

describe('mirroring', () => {
  after(stopAll);

  it('copies requests to v2, and the caller is unaffected when v2 is down', async () => {
    const [v1, v2] = await Promise.all([startUpstream('v1'), startUpstream('v2')]);
    const gw = await startGateway(gatewayForApp(`
    endpoints: [{ url: "${v1.url}", version: v1 }, { url: "${v2.url}", version: v2 }]
    outlierDetection: { consecutiveGatewayFailure: 0 }
    traffic: [{ to: { v1: 100 } }]
    mirror: { to: v2, percent: 100 }
`));
    const load = await runLoad(50, 4, (i, dispatcher) => send(`${gw.url}/upload`, { method: 'POST', body: `body ${i}`, dispatcher }));
    assert.ok(load.replies.every((r) => r.status === 200 && r.json().name === 'v1'), 'callers get v1');
    const mirrored = await eventually(async () => {
      const s = (await send(`${v2.url}/control/stats`)).json<{ mirrored: number }>();
      return s.mirrored === 50 ? s : undefined;
    }, 5000, 'v2 received the 50 copies');
    assert.equal(mirrored.mirrored, 50);

    await v2.proc.stop('SIGKILL');
    const started = Date.now();
    const down = await getLoad(`${gw.url}/echo`, 50, 4);
    assert.ok(down.replies.every((r) => r.status === 200 && r.json().name === 'v1'), 'a dead mirror changes nothing for callers');
    assert.ok(Date.now() - started < 5000);
    const metrics = (await send(`${gw.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'sekisho_mirror_requests_total', { service: 'app', version: 'v2', outcome: 'sent' }), 100);
  });

  it('mirrors the configured share of requests', async () => {
    const [v1, v2] = await Promise.all([startUpstream('v1'), startUpstream('v2')]);
    const gw = await startGateway(gatewayForApp(`
    endpoints: [{ url: "${v1.url}", version: v1 }, { url: "${v2.url}", version: v2 }]
    traffic: [{ to: { v1: 100 } }]
    mirror: { to: v2, percent: 20 }
`));
    await getLoad(`${gw.url}/echo`, 1000, 8);
    const copies = await eventually(async () => {
      const metrics = (await send(`${gw.adminUrl}/metrics`)).text;
      const sent = metricValue(metrics, 'sekisho_mirror_requests_total', { outcome: 'sent' });
      const s = (await send(`${v2.url}/control/stats`)).json<{ mirrored: number }>();
      return s.mirrored === sent ? sent : undefined;
    }, 5000);
    assert.ok(copies > 140 && copies < 260, `${copies} copies of 1000 at 20%`);
  });
});

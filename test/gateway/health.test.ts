import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, send } from '../helpers/http.js';
import { oneServiceGateway } from '../helpers/configs.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';

interface ClusterView {
  services: { name: string; available: number; endpoints: { address: string; healthy: boolean; ejected: boolean }[] }[];
}

async function endpointState(gw: GatewayProc, service: string, port: number) {
  const view = (await send(`${gw.adminUrl}/clusters`)).json<ClusterView>();
  return view.services.find((s) => s.name === service)!.endpoints.find((e) => e.address === `127.0.0.1:${port}`)!;
}

async function namesOf(gw: GatewayProc, path: string, n: number): Promise<Set<string>> {
  const names = new Set<string>();
  for (let i = 0; i < n; i++) names.add((await send(`${gw.url}${path}`)).json().name as string);
  return names;
}

describe('active health checks take endpoints out and bring them back', () => {
  let a: Upstream;
  let b: Upstream;
  let gw: GatewayProc;

  before(async () => {
    [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
    gw = await startGateway(
      oneServiceGateway([a.url, b.url], 'healthCheck: { path: /healthz, interval: 100ms, timeout: 500ms, unhealthyAfter: 2, healthyAfter: 2 }'),
    );
  });
  after(stopAll);

  it('balances over both while both are healthy', async () => {
    assert.deepEqual(await namesOf(gw, '/echo', 6), new Set(['a', 'b']));
  });

  it('ejects a failing endpoint and sends everything to the other', async () => {
    await send(`${b.url}/control/unhealthy`, { method: 'POST' });
    await eventually(async () => ((await endpointState(gw, 'app', b.port)).healthy ? undefined : true), 5000, 'b marked unhealthy');
    assert.deepEqual(await namesOf(gw, '/echo', 10), new Set(['a']));
    const metrics = (await send(`${gw.adminUrl}/metrics`)).text;
    assert.match(metrics, new RegExp(`sekisho_endpoint_healthy\\{role="gateway",service="app",endpoint="127.0.0.1:${b.port}"\\} 0`));
  });

  it('re-admits it once it passes again', async () => {
    await send(`${b.url}/control/healthy`, { method: 'POST' });
    await eventually(async () => ((await endpointState(gw, 'app', b.port)).healthy ? true : undefined), 5000, 'b healthy again');
    assert.deepEqual(await namesOf(gw, '/echo', 6), new Set(['a', 'b']));
  });

  it('answers 503 no_healthy_upstream when every endpoint fails', async () => {
    await Promise.all([a, b].map((u) => send(`${u.url}/control/unhealthy`, { method: 'POST' })));
    const r = await eventually(async () => {
      const reply = await send(`${gw.url}/echo`);
      return reply.status === 503 ? reply : undefined;
    }, 5000, 'no healthy endpoint');
    assert.equal(r.headers['x-sekisho-reason'], 'no_healthy_upstream');
    await Promise.all([a, b].map((u) => send(`${u.url}/control/healthy`, { method: 'POST' })));
  });
});

describe('passive failure marking ejects an endpoint that refuses connections', () => {
  it('stops sending traffic to a dead endpoint after consecutive failures', async () => {
    const alive = await startUpstream('alive');
    const dead = await startUpstream('dead');
    const gw = await startGateway(
      oneServiceGateway([alive.url, dead.url], 'outlierDetection: { consecutiveGatewayFailure: 2, ejectionTime: 30s, maxEjectedPercent: 50 }'),
    );
    try {
      await dead.proc.stop('SIGKILL');
      let failures = 0;
      for (let i = 0; i < 10; i++) if ((await send(`${gw.url}/echo`)).status !== 200) failures++;
      assert.equal(failures, 2, 'exactly the two failures that trigger the ejection');
      const state = await endpointState(gw, 'app', dead.port);
      assert.equal(state.ejected, true);
      for (let i = 0; i < 10; i++) assert.equal((await send(`${gw.url}/echo`)).status, 200);
    } finally {
      await stopAll();
    }
  });
});

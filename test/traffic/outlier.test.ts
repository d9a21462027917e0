import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, send } from '../helpers/http.js';
import { getLoad, metricValue } from '../helpers/load.js';
import { oneServiceGateway } from '../helpers/configs.js';
import { startGateway, startUpstream, stopAll, type GatewayProc } from '../helpers/processes.js';

interface EndpointView {
  address: string;
  ejected: boolean;
  ejections: number;
}

async function endpoint(gw: GatewayProc, port: number): Promise<EndpointView> {
  const view = (await send(`${gw.adminUrl}/clusters`)).json<{ services: { endpoints: EndpointView[] }[] }>();
  return view.services[0]!.endpoints.find((e) => e.address === `127.0.0.1:${port}`)!;
}

describe('outlier detection with three instances', () => {
  after(stopAll);

  it('ejects the one that keeps failing, serves every request meanwhile, and re-admits it', async () => {
    const [a, b, bad] = await Promise.all([startUpstream('a'), startUpstream('b'), startUpstream('bad')]);
    const gw = await startGateway(oneServiceGateway([a.url, b.url, bad.url],
      'outlierDetection: { consecutive5xx: 3, ejectionTime: 1s, maxEjectedPercent: 50 }, retries: { attempts: 3, on: [503], backoff: 1ms..2ms, budget: 100% }'));
    await send(`${bad.url}/control/fail?status=503`);

    const load = await getLoad(`${gw.url}/echo`, 60, 2);
    assert.deepEqual(new Set(load.replies.map((r) => r.status)), new Set([200]), 'retries hide the failing instance');
    assert.equal((await endpoint(gw, bad.port)).ejected, true);
    const metrics = (await send(`${gw.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'sekisho_outlier_ejected', { endpoint: `127.0.0.1:${bad.port}` }), 1);

    const seen = (await send(`${bad.url}/control/stats`)).json().requests as number;
    await getLoad(`${gw.url}/echo`, 20, 2);
    assert.equal((await send(`${bad.url}/control/stats`)).json().requests, seen, 'no traffic while ejected');

    await send(`${bad.url}/control/ok`);
    await eventually(async () => ((await endpoint(gw, bad.port)).ejected ? undefined : true), 5000, 're-admitted');
    const back = await getLoad(`${gw.url}/echo`, 30, 1);
    const names = new Set(back.replies.map((r) => r.json().name));
    assert.deepEqual(names, new Set(['a', 'b', 'bad']), 'traffic reaches the re-admitted instance');
    assert.equal((await endpoint(gw, bad.port)).ejections, 1);
  });

  it('never ejects beyond maxEjectedPercent: one instance always stays', async () => {
    const [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
    const gw = await startGateway(oneServiceGateway([a.url, b.url], 'outlierDetection: { consecutive5xx: 2, ejectionTime: 30s, maxEjectedPercent: 100 }'));
    await Promise.all([a, b].map((u) => send(`${u.url}/control/fail?status=500`)));
    await getLoad(`${gw.url}/echo`, 20, 1);
    const view = await Promise.all([endpoint(gw, a.port), endpoint(gw, b.port)]);
    assert.equal(view.filter((e) => e.ejected).length, 1);
  });
});

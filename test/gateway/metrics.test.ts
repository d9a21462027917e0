import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../helpers/http.js';
import { oneServiceGateway } from '../helpers/configs.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('admin endpoints and metrics', () => {
  let app: Upstream;
  let gw: GatewayProc;

  before(async () => {
    app = await startUpstream('app');
    gw = await startGateway(oneServiceGateway([app.url], '', '/app'));
  });
  after(stopAll);

  it('counts requests by route, service, version and code', async () => {
    const ok = 'sekisho_requests_total{role="gateway",route="app",service="app",version="v1",code="200"}';
    const notFound = 'sekisho_requests_total{role="gateway",route="",service="",version="",code="404"}';
    const before = (await send(`${gw.adminUrl}/metrics`)).text;
    for (let i = 0; i < 5; i++) assert.equal((await send(`${gw.url}/app/echo`)).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await send(`${gw.url}/none`)).status, 404);
    const m = await send(`${gw.adminUrl}/metrics`);
    assert.match(String(m.headers['content-type']), /^text\/plain; version=0.0.4/);
    assert.equal(sample(m.text, ok) - sample(before, ok), 5);
    assert.equal(sample(m.text, notFound) - sample(before, notFound), 3);
    const count = 'sekisho_request_duration_seconds_count{role="gateway",route="app",service="app"}';
    assert.equal(sample(m.text, count) - sample(before, count), 5);
    for (const family of ['sekisho_upstream_retries_total', 'sekisho_ratelimit_rejected_total', 'sekisho_auth_rejected_total',
      'sekisho_circuit_open', 'sekisho_outlier_ejected', 'sekisho_cert_expiry_seconds', 'sekisho_config_version']) {
      assert.match(m.text, new RegExp(`# TYPE ${family} `), family);
    }
    assert.equal(sample(m.text, 'sekisho_config_version{role="gateway"}'), 1);
  });

  it('serves /live, /ready, /config and /clusters', async () => {
    assert.equal((await send(`${gw.adminUrl}/live`)).status, 200);
    assert.equal((await send(`${gw.adminUrl}/ready`)).status, 200);
    const config = (await send(`${gw.adminUrl}/config`)).json<{ version: number; config: { gateway: { routes: { name: string }[] } } }>();
    assert.equal(config.version, 1);
    assert.equal(config.config.gateway.routes[0]!.name, 'app');
    const clusters = (await send(`${gw.adminUrl}/clusters`)).json<{ services: { name: string; endpoints: { url: string; healthy: boolean }[] }[] }>();
    assert.deepEqual(clusters.services.map((s) => s.name), ['app']);
    assert.equal(clusters.services[0]!.endpoints[0]!.url, app.url);
    assert.equal(clusters.services[0]!.endpoints[0]!.healthy, true);
    assert.equal((await send(`${gw.adminUrl}/nope`)).status, 404);
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { eventually, send } from '../helpers/http.js';
import { meshYaml, startControlPlane, startInstance, startSidecar, type ControlPlaneProc, type SidecarProc } from '../helpers/mesh.js';
import { startUpstream, stopAll } from '../helpers/processes.js';

const CONFIG = meshYaml(`
mesh: { name: shop }
services:
  orders: {}
  billing: {}
  ghost: {}
`);

function accepts(url: string): Promise<true | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(undefined));
  });
}

describe('calls made before the mesh is ready', () => {
  let cp: ControlPlaneProc;
  let orders: SidecarProc;

  before(async () => {
    cp = await startControlPlane(CONFIG);
    const app = await startUpstream('orders');
    orders = await startSidecar(cp, { service: 'orders', appPort: app.port, waitReady: false });
    await eventually(() => accepts(orders.outboundUrl), 10_000, 'the outbound listener');
  });
  after(stopAll);

  it('wait for the first instance of the service instead of failing', async () => {
    const early = send(`${orders.outboundUrl}/billing/charge`, { headers: { host: 'billing' } });
    const outcome = await Promise.race([early.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    assert.equal(outcome, 'waiting');
    await startInstance(cp, 'billing');
    const res = await early;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json<{ name: string }>().name, 'billing-v1');
  });

  it('get 503 no_healthy_upstream when no instance comes within the wait', async () => {
    const started = Date.now();
    const res = await send(`${orders.outboundUrl}/x`, { headers: { host: 'ghost' } });
    assert.equal(res.status, 503);
    assert.equal(res.headers['x-sekisho-reason'], 'no_healthy_upstream');
    assert.ok(Date.now() - started >= 4000, 'answered without waiting');
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { CertificateAuthority } from '../../src/control-plane/ca.js';
import { eventually, send } from '../helpers/http.js';
import {
  meshYaml, restartControlPlane, restartSidecar, startControlPlane, startInstance, startMeshGateway, Traffic,
  type ControlPlaneProc, type MeshGatewayProc, type SidecarProc,
} from '../helpers/mesh.js';
import { stopAll, tempDir } from '../helpers/processes.js';

const CONFIG = meshYaml(`
mesh: { name: shop }
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes:
    - { name: orders, match: { pathPrefix: /orders }, service: orders, stripPrefix: /orders }
services:
  orders: {}
  billing: {}
`);

describe('static stability: the control plane goes away and comes back', () => {
  let cp: ControlPlaneProc;
  let gateway: MeshGatewayProc;
  let orders: SidecarProc;

  before(async () => {
    const dir = tempDir();
    cp = await startControlPlane(CONFIG, { dir, store: `file:${join(dir, 'store')}` });
    [{ sidecar: orders }, , gateway] = await Promise.all([startInstance(cp, 'orders'), startInstance(cp, 'billing'), startMeshGateway(cp)]);
  });
  after(stopAll);

  it('keeps serving with the last config and certificates, through a sidecar restart, and resyncs', async () => {
    const url = `${gateway.url}/orders/call/billing/charge`;
    const whileAway = new Traffic(url);
    await whileAway.atLeast(50);
    await cp.proc.stop('SIGKILL');
    await whileAway.atLeast(150);
    await whileAway.stop();
    assert.deepEqual(whileAway.failures.slice(0, 5), [], `${whileAway.failures.length} of ${whileAway.sent} requests failed while the control plane was away`);

    // A sidecar restarted while the control plane is away serves from its state folder.
    await orders.proc.stop('SIGTERM');
    orders = await restartSidecar(orders);
    assert.ok(orders.proc.lines.some((l) => l.includes('serving the persisted config')));
    const meanwhile = (await send(`${orders.adminUrl}/config`)).json<{ controlPlane: { connected: boolean } }>();
    assert.equal(meanwhile.controlPlane.connected, false);
    await eventually(async () => ((await send(url)).json<{ status: number }>().status === 200 ? true : undefined), 10_000, 'orders serving again');

    const throughReturn = new Traffic(url);
    await throughReturn.atLeast(50);
    cp = await restartControlPlane(cp);
    const resynced = await eventually(async () => {
      const view = (await send(`${cp.adminUrl}/api/proxies`)).json<{ version: number; proxies: { ackedVersion: number }[] }>();
      return view.proxies.length === 3 && view.proxies.every((p) => p.ackedVersion === view.version) ? view : undefined;
    }, 15_000, 'every proxy back and in sync');
    assert.ok(resynced.version > 0);
    await throughReturn.atLeast(150);
    await throughReturn.stop();
    assert.deepEqual(throughReturn.failures.slice(0, 5), [], `${throughReturn.failures.length} of ${throughReturn.sent} requests failed while the control plane came back`);

    const services = (await send(`${cp.adminUrl}/api/services`)).json<{ services: { name: string; instances: { health: string }[] }[] }>();
    for (const service of services.services) assert.deepEqual(service.instances.map((i) => i.health), ['healthy'], service.name);
  });
});

describe('static stability with a memory store (CA from files)', () => {
  let cp: ControlPlaneProc;
  let orders: SidecarProc;

  before(async () => {
    // A memory store forgets the registry on restart; the CA must come from files to survive it.
    const dir = tempDir();
    const ca = await CertificateAuthority.create('shop');
    writeFileSync(join(dir, 'root.pem'), ca.material.certPem);
    writeFileSync(join(dir, 'root-key.pem'), ca.material.keyPem);
    cp = await startControlPlane(meshYaml(`
mesh: { name: shop }
services:
  orders: {}
  billing: {}
`, '  store: memory\n  ca: { cert: ./root.pem, key: ./root-key.pem }\n'), { dir });
    [{ sidecar: orders }] = await Promise.all([startInstance(cp, 'orders'), startInstance(cp, 'billing')]);
  });
  after(stopAll);

  it('keeps the proxies on their last config until the restarted control plane has heard from every sidecar', async () => {
    const traffic = new Traffic(`${orders.outboundUrl}/billing/charge`, { host: 'billing' });
    await traffic.atLeast(50);
    await cp.proc.stop('SIGKILL');
    await traffic.atLeast(100);
    cp = await restartControlPlane(cp);
    await eventually(async () => {
      const view = (await send(`${cp.adminUrl}/api/proxies`)).json<{ version: number; proxies: { ackedVersion: number }[] }>();
      return view.proxies.length === 2 && view.proxies.every((p) => p.ackedVersion === view.version) ? true : undefined;
    }, 15_000, 'both sidecars back and in sync');
    await traffic.atLeast(100);
    await traffic.stop();
    assert.deepEqual(traffic.failures.slice(0, 5), [], `${traffic.failures.length} of ${traffic.sent} requests failed`);
    assert.ok(cp.proc.lines.some((l) => l.includes('"proxy connected"') && /"holdMs":[1-9]/.test(l)), 'no proxy was held through the resync grace');
  });
});

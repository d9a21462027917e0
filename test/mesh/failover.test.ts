import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { freePort } from '../../src/mesh/ports.js';
import { send } from '../helpers/http.js';
import { meshYaml, startControlPlane, startSidecar } from '../helpers/mesh.js';
import { startUpstream, stopAll } from '../helpers/processes.js';

describe('a list of control planes', () => {
  after(stopAll);

  it('fails over from one that does not answer to the next', async () => {
    const cp = await startControlPlane(meshYaml('mesh: { name: shop }\nservices:\n  orders: {}\n'));
    const nobody = `https://127.0.0.1:${await freePort()}`;
    const app = await startUpstream('orders');
    const sidecar = await startSidecar({ ...cp, xdsUrl: `${nobody},${cp.xdsUrl}` }, { service: 'orders', appPort: app.port });
    assert.ok(sidecar.proc.lines.some((l) => l.includes('control plane unreachable') && l.includes(nobody)), 'the first one was tried');
    const res = await send(`${sidecar.outboundUrl}/hello`, { headers: { host: 'orders' } });
    assert.equal(res.status, 200, res.text);
  });

  it('gives up on one that accepts connections but never answers, and fails over to the next', async () => {
    // Takes the TCP connection and says nothing: no TLS handshake, no response head.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `https://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const cp = await startControlPlane(meshYaml('mesh: { name: shop }\nservices:\n  orders: {}\n'));
      const app = await startUpstream('orders');
      const sidecar = await startSidecar({ ...cp, xdsUrl: `${silentUrl},${cp.xdsUrl}` }, { service: 'orders', appPort: app.port });
      assert.ok(held.length > 0, 'the silent one was connected to');
      assert.ok(sidecar.proc.lines.some((l) => l.includes('control plane unreachable') && l.includes(silentUrl) && l.includes('no answer within')), 'it was given up on for its silence');
      const res = await send(`${sidecar.outboundUrl}/hello`, { headers: { host: 'orders' } });
      assert.equal(res.status, 200, res.text);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { client, eventually, send } from '../helpers/http.js';
import { meshYaml, startControlPlane, startInstance, type ControlPlaneProc, type SidecarProc } from '../helpers/mesh.js';
import { stopAll, type Proc } from '../helpers/processes.js';

const CONFIG = meshYaml(
  `
mesh: { name: shop }
services:
  orders: {}
  billing: {}
`,
  '  ca: { certTTL: 5s }\n',
);

describe('certificate rotation with a 5 s TTL', () => {
  let cp: ControlPlaneProc;
  let orders: SidecarProc;
  let billing: { sidecar: SidecarProc; app: { proc: Proc } };

  before(async () => {
    cp = await startControlPlane(CONFIG);
    billing = await startInstance(cp, 'billing');
    ({ sidecar: orders } = await startInstance(cp, 'orders'));
  });
  after(stopAll);

  it('renews at half-life on both sides while traffic flows, without a failed request', async () => {
    const dispatcher = client();
    const certificatesBefore = renewals(orders.proc) + renewals(billing.sidecar.proc);
    const failures: string[] = [];
    let sent = 0;
    // ~12 s of traffic: more than two lifetimes of a 5 s certificate. Bounded in time and count.
    const deadline = Date.now() + 12_000;
    while (Date.now() < deadline && sent < 20_000) {
      const batch = await Promise.all(
        Array.from({ length: 4 }, () =>
          send(`${orders.outboundUrl}/billing/charge`, { headers: { host: 'billing' }, dispatcher }).then(
            (r) => (r.status === 200 ? undefined : `${r.status} ${r.text}`),
            (e: Error) => e.message,
          ),
        ),
      );
      sent += batch.length;
      for (const f of batch) if (f !== undefined) failures.push(f);
    }
    const renewed = renewals(orders.proc) + renewals(billing.sidecar.proc) - certificatesBefore;
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${sent} requests failed`);
    assert.ok(renewed >= 4, `only ${renewed} renewals during the run`);
    assert.ok(sent > 100, `only ${sent} requests sent`);

    // The certificate in force is fresh: never older than its half-life (plus a poll's slack).
    const expiry = await eventually(async () => {
      const m = /sekisho_cert_expiry_seconds\{role="sidecar"\} (\d+)/.exec((await send(`${orders.adminUrl}/metrics`)).text);
      return m ? Number(m[1]) : undefined;
    });
    assert.ok(expiry >= 1 && expiry <= 5, `expiry ${expiry}`);
  });
});

function renewals(proc: Proc): number {
  return proc.lines.filter((l) => l.includes('"certificate received"')).length;
}

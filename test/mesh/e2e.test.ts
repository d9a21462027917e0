import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { CertificateAuthority } from '../../src/control-plane/ca.js';
import { createCsr } from '../../src/mesh/pki.js';
import { send } from '../helpers/http.js';
import { JOIN_TOKEN, meshYaml, startControlPlane, startInstance, startMeshGateway, type ControlPlaneProc, type MeshGatewayProc, type SidecarProc } from '../helpers/mesh.js';
import { stopAll } from '../helpers/processes.js';

const CONFIG = meshYaml(`
mesh: { name: shop }
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes:
    - name: orders
      match: { pathPrefix: /orders }
      service: orders
      stripPrefix: /orders
    - name: billing-direct
      match: { pathPrefix: /billing }
      service: billing
services:
  orders: {}
  web: {}
  billing:
    authorization:
      allow:
        - from: [orders]
          methods: [GET, POST]
          paths: [/billing/*]
`);

interface Echo {
  name: string;
  headers: Record<string, string>;
}
interface Call {
  name: string;
  peer: string | null;
  status: number;
  body: Echo & { code?: string; detail?: string };
}

describe('mesh end to end: gateway → orders → billing over mTLS', () => {
  let cp: ControlPlaneProc;
  let gateway: MeshGatewayProc;
  let orders: SidecarProc;
  let billing: SidecarProc;
  let web: SidecarProc;

  before(async () => {
    cp = await startControlPlane(CONFIG);
    [{ sidecar: billing }, { sidecar: orders }, { sidecar: web }, gateway] = await Promise.all([
      startInstance(cp, 'billing'),
      startInstance(cp, 'orders'),
      startInstance(cp, 'web'),
      startMeshGateway(cp, 'edge'),
    ]);
  });
  after(stopAll);

  it('carries a request from the gateway through orders to billing, each app told who called', async () => {
    const res = await send(`${gateway.url}/orders/call/billing/billing/charge`);
    assert.equal(res.status, 200, res.text);
    const call = res.json<Call>();
    assert.equal(call.name, 'orders-v1');
    assert.equal(call.peer, 'spiffe://shop/gateway/edge');
    assert.equal(call.status, 200);
    assert.equal(call.body.name, 'billing-v1');
    assert.equal(call.body.headers['x-sekisho-peer'], 'spiffe://shop/svc/orders');
  });

  it("keeps the gateway's X-Forwarded-For chain across the mesh hop", async () => {
    const res = await send(`${gateway.url}/orders/echo`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    const forwarded = res.json<Echo>().headers['x-forwarded-for'];
    // The gateway replaced the client's claim with the socket address; orders' sidecar extended it.
    assert.equal(forwarded, '127.0.0.1, 127.0.0.1');
  });

  it('accepts proxy form and Host origin form on the outbound listener, and replaces a forged x-sekisho-peer', async () => {
    const origin = await send(`${orders.outboundUrl}/billing/invoices/7`, { headers: { host: 'billing', 'x-sekisho-peer': 'spiffe://shop/svc/admin' } });
    assert.equal(origin.status, 200, origin.text);
    assert.equal(origin.json<Echo>().headers['x-sekisho-peer'], 'spiffe://shop/svc/orders');

    const proxied = await sendProxyForm(orders.outboundUrl, 'http://billing/billing/charge');
    assert.equal(proxied.status, 200, proxied.text);
    assert.equal(JSON.parse(proxied.text).name, 'billing-v1');
  });

  it('answers 404 no_route for a service the mesh does not know', async () => {
    const res = await send(`${orders.outboundUrl}/x`, { headers: { host: 'nowhere' } });
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-sekisho-reason'], 'no_route');
  });

  it('denies with 403 naming the rule when the caller is not in authorization.allow', async () => {
    const fromWeb = await send(`${web.outboundUrl}/billing/charge`, { headers: { host: 'billing' } });
    assert.equal(fromWeb.status, 403, fromWeb.text);
    assert.equal(fromWeb.headers['content-type'], 'application/problem+json');
    assert.equal(fromWeb.headers['x-sekisho-reason'], 'forbidden');
    assert.match(fromWeb.json<{ detail: string }>().detail, /no rule in services\.billing\.authorization\.allow allows spiffe:\/\/shop\/svc\/web/);

    const fromGateway = await send(`${gateway.url}/billing/charge`);
    assert.equal(fromGateway.status, 403);
    assert.match(fromGateway.json<{ detail: string }>().detail, /spiffe:\/\/shop\/gateway\/edge/);

    const wrongPath = await send(`${orders.outboundUrl}/admin`, { headers: { host: 'billing' } });
    assert.equal(wrongPath.status, 403);
    assert.match(wrongPath.json<{ detail: string }>().detail, /services\.billing\.authorization\.allow\[0\] allows spiffe:\/\/shop\/svc\/orders only GET\|POST \/billing\/\*; not GET \/admin/);
  });

  it('lets any mesh identity in where defaultAuthorization is authenticated', async () => {
    const res = await send(`${web.outboundUrl}/anything`, { headers: { host: 'orders' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json<Echo>().headers['x-sekisho-peer'], 'spiffe://shop/svc/web');
  });

  it('refuses a plaintext connection to an inbound port', async () => {
    await assert.rejects(send(`http://127.0.0.1:${billing.inboundPort}/billing/charge`));
  });

  it('refuses a client certificate from another CA, and accepts one from the mesh CA', async () => {
    const meshCa = readFileSync(cp.caFile, 'utf8');
    const foreign = await CertificateAuthority.create('shop');
    const forged = await createCsr();
    const forgedCert = await foreign.issue(forged.csrPem, 'spiffe://shop/svc/orders', 60_000);
    await assert.rejects(inboundRequest(billing.inboundPort, meshCa, forgedCert.certPem, forged.keyPem));

    // The same request with a certificate the mesh CA issued (through the join token) goes through.
    const real = await createCsr();
    const issued = await send(`${cp.xdsUrl}/v1/certificate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${JOIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ csr: real.csrPem, kind: 'svc', name: 'orders' }),
      dispatcher: new Pool(cp.xdsUrl, { connect: { ca: meshCa, checkServerIdentity: () => undefined } }) as never,
    });
    assert.equal(issued.status, 200, issued.text);
    const status = await inboundRequest(billing.inboundPort, meshCa, issued.json<{ cert: string }>().cert, real.keyPem);
    assert.equal(status, 200);
  });

  it('exports sekisho_cert_expiry_seconds on the sidecar and the gateway', async () => {
    for (const admin of [orders.adminUrl, gateway.adminUrl]) {
      const metrics = await send(`${admin}/metrics`);
      const m = /sekisho_cert_expiry_seconds\{role="(sidecar|gateway)"\} (\d+)/.exec(metrics.text);
      assert.ok(m, metrics.text);
      assert.ok(Number(m[2]) > 3000, `expiry ${m[2]}`);
    }
  });
});

async function inboundRequest(port: number, ca: string, cert: string, key: string): Promise<number> {
  const pool = new Pool(`https://127.0.0.1:${port}`, { connect: { ca, cert, key, maxCachedSessions: 0, checkServerIdentity: () => undefined } });
  try {
    const res = await pool.request({ method: 'GET', path: '/billing/charge' });
    await res.body.dump();
    return res.statusCode;
  } finally {
    await pool.destroy();
  }
}

/** `GET http://billing/…` sent to the sidecar as to an HTTP proxy (absolute-form target). */
async function sendProxyForm(proxyUrl: string, target: string): Promise<{ status: number; text: string }> {
  const { request } = await import('node:http');
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: proxy.hostname, port: proxy.port, path: target, headers: { host: new URL(target).host } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

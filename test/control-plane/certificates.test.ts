import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { createCsr } from '../../src/mesh/pki.js';
import { send, type Reply } from '../helpers/http.js';
import { JOIN_TOKEN, meshYaml, startControlPlane, type ControlPlaneProc } from '../helpers/mesh.js';
import { CLI, startProcess, stopAll, tempDir } from '../helpers/processes.js';

const CONFIG = meshYaml(`
mesh: { name: shop }
services:
  orders: {}
`, '  ca: { certTTL: 90s }\n');

describe('the control plane CA', () => {
  let cp: ControlPlaneProc;
  let ca: string;

  before(async () => {
    cp = await startControlPlane(CONFIG);
    ca = readFileSync(cp.caFile, 'utf8');
  });
  after(stopAll);

  function certificateRequest(body: unknown, headers: Record<string, string>, client?: { cert: string; key: string }): Promise<Reply> {
    const dispatcher = new Pool(cp.xdsUrl, { connect: { ca, ...client, maxCachedSessions: 0, checkServerIdentity: () => undefined } });
    return send(`${cp.xdsUrl}/v1/certificate`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), dispatcher: dispatcher as never });
  }

  it('issues a short-lived leaf with exactly the SPIFFE ID it decides, from a CSR, for the join token', async () => {
    const { csrPem, keyPem } = await createCsr();
    const res = await certificateRequest({ csr: csrPem, kind: 'svc', name: 'orders' }, { authorization: `Bearer ${JOIN_TOKEN}` });
    assert.equal(res.status, 200, res.text);
    const { cert, notAfter } = res.json<{ cert: string; notAfter: number }>();
    const x509 = new X509Certificate(cert);
    assert.equal(x509.subjectAltName, 'URI:spiffe://shop/svc/orders');
    assert.ok(x509.verify(new X509Certificate(ca).publicKey));
    assert.ok(x509.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem)));
    const ttl = notAfter - Date.now();
    assert.ok(ttl > 80_000 && ttl <= 90_000, `ttl ${ttl}`);

    // Renewal with that certificate (no token) keeps the identity, and cannot change it.
    const next = await createCsr();
    const renewed = await certificateRequest({ csr: next.csrPem, kind: 'svc', name: 'orders' }, {}, { cert, key: keyPem });
    assert.equal(renewed.status, 200, renewed.text);
    const hijack = await certificateRequest({ csr: next.csrPem, kind: 'gateway', name: 'edge' }, {}, { cert, key: keyPem });
    assert.equal(hijack.status, 403);
    assert.match(hijack.text, /cannot be renewed as spiffe:\/\/shop\/gateway\/edge/);
  });

  it('refuses a request without a valid join token or certificate', async () => {
    const { csrPem } = await createCsr();
    assert.equal((await certificateRequest({ csr: csrPem, kind: 'svc', name: 'orders' }, {})).status, 401);
    assert.equal((await certificateRequest({ csr: csrPem, kind: 'svc', name: 'orders' }, { authorization: 'Bearer wrong' })).status, 401);
  });

  it('refuses a service that is not in the mesh config, and a CSR that does not verify', async () => {
    const { csrPem } = await createCsr();
    const unknown = await certificateRequest({ csr: csrPem, kind: 'svc', name: 'mallory' }, { authorization: `Bearer ${JOIN_TOKEN}` });
    assert.equal(unknown.status, 403);
    // One bit of the signature flipped: still a well-formed CSR, no longer signed by its key.
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5]! ^= 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const bad = await certificateRequest({ csr: tampered, kind: 'svc', name: 'orders' }, { authorization: `Bearer ${JOIN_TOKEN}` });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /bad CSR/);
  });

  it('keeps its CA across restarts with a file store, and explains an etcd store it cannot use', async () => {
    const dir = tempDir();
    const first = await startControlPlane(CONFIG, { dir, store: `file:${join(dir, 'store')}` });
    const fingerprint = (await send(`${first.adminUrl}/api/certs`)).json<{ ca: { fingerprint: string } }>().ca.fingerprint;
    await first.proc.stop();
    const second = await startControlPlane(CONFIG, { dir, store: `file:${join(dir, 'store')}` });
    assert.equal((await send(`${second.adminUrl}/api/certs`)).json<{ ca: { fingerprint: string } }>().ca.fingerprint, fingerprint);

    const etcdFile = join(tempDir(), 'sekisho.yaml');
    writeFileSync(etcdFile, CONFIG);
    const etcd = startProcess([CLI, 'control-plane', '-c', etcdFile, '--store', 'etcd://127.0.0.1:2379']);
    assert.equal(await etcd.exited, 1);
    assert.match(etcd.stderr, /the etcd store is not available in this version; use "memory" or "file:DIR"/);
  });
});

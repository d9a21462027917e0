import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CertificateAuthority } from '../../src/control-plane/ca.js';
import { MtlsTransport, type TlsCredentials } from '../../src/core/upstream/mtls.js';
import type { UpstreamHandler, UpstreamRequest } from '../../src/core/upstream/transport.js';
import { createCsr } from '../../src/mesh/pki.js';

async function credentialsFor(ca: CertificateAuthority, id: string): Promise<TlsCredentials> {
  const { keyPem, csrPem } = await createCsr();
  const issued = await ca.issue(csrPem, id, 3_600_000);
  return { certPem: issued.certPem, keyPem, caPem: ca.certPem };
}

/** Collects one exchange's outcome through the undici-shaped handler. */
function exchange(transport: MtlsTransport, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const chunks: Buffer[] = [];
    const handler: UpstreamHandler = {
      onConnect: () => undefined,
      onHeaders: (code) => ((status = code), true),
      onData: (chunk) => (chunks.push(chunk), true),
      onComplete: () => resolve({ status, body: Buffer.concat(chunks).toString() }),
      onError: reject,
    };
    const request: UpstreamRequest = { method: 'GET', path, headers: [], body: null, headersTimeoutMs: 5000, bodyTimeoutMs: 5000 };
    transport.dispatch(request, handler);
  });
}

function serialOf(pem: string): string {
  return new X509Certificate(pem).serialNumber;
}

describe('the mTLS upstream transport', () => {
  let ca: CertificateAuthority;
  let server: Server;
  let origin: string;
  const releaseSlow: (() => void)[] = [];

  before(async () => {
    ca = await CertificateAuthority.create('shop');
    const billing = await credentialsFor(ca, 'spiffe://shop/svc/billing');
    server = createServer({ cert: billing.certPem, key: billing.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      // Answers with the caller's certificate serial, so a test sees which credentials were used.
      const serial = (req.socket as TLSSocket).getPeerCertificate().serialNumber;
      if (req.url === '/slow') releaseSlow.push(() => res.end(serial));
      else res.end(serial);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reaches a peer whose certificate names the service meant', async () => {
    const source = { current: await credentialsFor(ca, 'spiffe://shop/svc/orders') };
    const transport = new MtlsTransport(origin, { connectTimeoutMs: 2000, expectedIdentity: 'spiffe://shop/svc/billing', credentials: source });
    assert.equal((await exchange(transport, '/')).status, 200);
    await transport.close();
  });

  it('refuses a peer whose certificate names another service, as a connect failure', async () => {
    const source = { current: await credentialsFor(ca, 'spiffe://shop/svc/orders') };
    const transport = new MtlsTransport(origin, { connectTimeoutMs: 2000, expectedIdentity: 'spiffe://shop/svc/payments', credentials: source });
    await assert.rejects(exchange(transport, '/'), (error: NodeJS.ErrnoException) => {
      assert.equal(error.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.match(error.message, /expected spiffe:\/\/shop\/svc\/payments/);
      return true;
    });
    await transport.close();
  });

  it('switches to renewed credentials for new requests while one in flight finishes on the old ones', async () => {
    const first = await credentialsFor(ca, 'spiffe://shop/svc/orders');
    const source = { current: first };
    const transport = new MtlsTransport(origin, { connectTimeoutMs: 2000, expectedIdentity: 'spiffe://shop/svc/billing', credentials: source });

    const inFlight = exchange(transport, '/slow');
    while (releaseSlow.length === 0) await new Promise((r) => setTimeout(r, 10));
    source.current = await credentialsFor(ca, 'spiffe://shop/svc/orders');
    const renewed = await exchange(transport, '/');
    assert.equal(renewed.body, serialOf(source.current.certPem));

    releaseSlow.shift()!();
    const old = await inFlight;
    assert.equal(old.status, 200);
    assert.equal(old.body, serialOf(first.certPem));
    await transport.close();
  });
});

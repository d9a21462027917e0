import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { CertificateAuthority } from '../../../src/control-plane/ca.js';
import { MtlsTransport, type TlsCredentials } from '../../../src/core/upstream/mtls.js';
import { classifyFailure } from '../../../src/core/upstream/transport.js';
import { createCsr } from '../../../src/mesh/pki.js';
import { code, get, Recorder } from './helpers.js';

async function credentialsFor(ca: CertificateAuthority, id: string): Promise<TlsCredentials> {
  const { keyPem, csrPem } = await createCsr();
  const issued = await ca.issue(csrPem, id, 3_600_000);
  return { certPem: issued.certPem, keyPem, caPem: ca.certPem };
}

interface Handshake {
  readonly protocol: string | null;
  readonly alpn: string | false | null;
  readonly resumed: boolean;
  readonly peer: string | undefined;
}

describe('upstream pool over mTLS', () => {
  let ca: CertificateAuthority;
  let server: Server;
  let origin: string;
  const handshakes: Handshake[] = [];

  before(async () => {
    ca = await CertificateAuthority.create('shop');
    const billing = await credentialsFor(ca, 'spiffe://shop/svc/billing');
    // A raw TLS server answering every request head with a keep-alive 200, recording each handshake.
    server = createServer(
      { cert: billing.certPem, key: billing.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['http/1.1'] },
      (socket: TLSSocket) => {
        handshakes.push({
          protocol: socket.getProtocol(),
          alpn: socket.alpnProtocol,
          resumed: socket.isSessionReused(),
          peer: socket.getPeerCertificate().subjectaltname,
        });
        socket.on('error', () => undefined);
        let pending = '';
        socket.on('data', (data: Buffer) => {
          pending += data.toString('latin1');
          for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
            pending = pending.slice(end + 4);
            socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          }
        });
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('reaches the service meant over TLS 1.3 with ALPN http/1.1, and never resumes a session', async () => {
    handshakes.length = 0;
    const credentials = { current: await credentialsFor(ca, 'spiffe://shop/svc/orders') };
    const transport = new MtlsTransport(origin, { connectTimeoutMs: 2000, expectedIdentity: 'spiffe://shop/svc/billing', credentials });
    // Two concurrent requests (two connections), then a third on a warm one.
    const a = new Recorder();
    const b = new Recorder();
    transport.dispatch(get('/a'), a);
    transport.dispatch(get('/b'), b);
    await Promise.all([a.done, b.done]);
    const c = new Recorder();
    transport.dispatch(get('/c'), c);
    await c.done;
    assert.deepEqual([a.status, b.status, c.status], [200, 200, 200]);
    assert.equal(handshakes.length, 2);
    for (const h of handshakes) {
      assert.equal(h.protocol, 'TLSv1.3');
      assert.equal(h.alpn, 'http/1.1');
      assert.equal(h.resumed, false);
      assert.equal(h.peer, 'URI:spiffe://shop/svc/orders', 'our own certificate was presented');
    }
    await transport.close();
  });

  it('refuses a peer whose certificate names another service, as a connect failure', async () => {
    const credentials = { current: await credentialsFor(ca, 'spiffe://shop/svc/orders') };
    const transport = new MtlsTransport(origin, { connectTimeoutMs: 2000, expectedIdentity: 'spiffe://shop/svc/payments', credentials });
    const r = new Recorder();
    transport.dispatch(get(), r);
    await r.done;
    assert.deepEqual(r.calls, ['connect', 'error']);
    assert.equal(code(r.error), 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.match(r.error!.message, /expected spiffe:\/\/shop\/svc\/payments/);
    assert.equal(classifyFailure(r.error!), 'connect-failure');
    await transport.close();
  });
});

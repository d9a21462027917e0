import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { x509 } from '../../src/mesh/x509.js';
import { certificationRequest, createCsr } from '../../src/mesh/csr.js';

// The proxies' hand-built CSR must read back, with a valid signature, in the library the
// control plane signs certificates with (its issuance from such a CSR is covered in
// test/control-plane/certificates.test.ts) and in OpenSSL.
describe('a proxy CSR', () => {
  it('is a PKCS#10 request for CN=sekisho, signed by the key it carries, whose private half comes back as PKCS#8', async () => {
    const { csrPem, keyPem } = await createCsr();
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    assert.equal(csr.subject, 'CN=sekisho');
    assert.deepEqual({ ...csr.signatureAlgorithm }, { name: 'ECDSA', hash: { name: 'SHA-256' } });
    assert.equal(await csr.verify(), true);
    const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    assert.deepEqual(Buffer.from(csr.publicKey.rawData), fromKey);
  });

  it('does not verify once a byte of what was signed changes', async () => {
    const { csrPem } = await createCsr();
    const der = Buffer.from(new x509.Pkcs10CertificateRequest(csrPem).rawData);
    // The last byte of the subject's "sekisho", inside the signed part.
    const at = der.indexOf(Buffer.from('sekisho')) + 6;
    der[at] = der[at]! ^ 0x01;
    assert.equal(await new x509.Pkcs10CertificateRequest(der).verify(), false);
  });

  it('encodes lengths of 128 bytes and more in the long form', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (const name of ['a'.repeat(120), 'b'.repeat(300)]) {
      const csr = new x509.Pkcs10CertificateRequest(certificationRequest(name, publicKey, privateKey));
      assert.equal(csr.subject, `CN=${name}`);
      assert.equal(await csr.verify(), true);
    }
  });

  it('passes `openssl req -verify`', { skip: spawnSync('openssl', ['version']).status !== 0 && 'no openssl here' }, async () => {
    const { csrPem } = await createCsr();
    const out = spawnSync('openssl', ['req', '-verify', '-noout', '-subject'], { input: csrPem, encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout + out.stderr, /verif(y|ication) OK/i);
    assert.match(out.stdout, /CN ?= ?sekisho/);
  });
});

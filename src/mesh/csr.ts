import { generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * The one PKCS#10 request a proxy makes (ECDSA P-256, SHA-256, subject CN=sekisho), built with
 * node:crypto and a few lines of DER rather than @peculiar/x509: that library and the
 * reflect-metadata/tsyringe it pulls in cost a sidecar about 10 MB of resident memory for a
 * request it makes once per certificate. The control plane, which signs certificates, keeps
 * using @peculiar/x509 (src/mesh/pki.ts) and verifies these requests with it.
 */

const generateEcKeyPair = promisify(generateKeyPair);

/** OID 2.5.4.3 (commonName) and OID 1.2.840.10045.4.3.2 (ecdsa-with-SHA256), DER-encoded with their tag. */
const OID_COMMON_NAME = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);
const OID_ECDSA_WITH_SHA256 = Buffer.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);

const SEQUENCE = 0x30;
const SET = 0x31;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const UTF8_STRING = 0x0c;
/** `[0] IMPLICIT` (constructed): the request's attributes, which it has none of. */
const ATTRIBUTES = 0xa0;

/** One DER tag-length-value; lengths of 128 bytes and more take the long form. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  if (n > 0xffff) throw new Error('DER value too long');
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

/** A DER CertificationRequest (RFC 2986) for `publicKey`, signed with `privateKey`. */
export function certificationRequest(commonName: string, publicKey: KeyObject, privateKey: KeyObject): Buffer {
  const subject = der(SEQUENCE, der(SET, der(SEQUENCE, OID_COMMON_NAME, der(UTF8_STRING, Buffer.from(commonName, 'utf8')))));
  const info = der(
    SEQUENCE,
    der(INTEGER, Buffer.from([0])), // version 1
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(ATTRIBUTES),
  );
  // node:crypto signs EC keys with a DER-encoded (r, s), the form X.509 signatures take.
  const signature = sign('sha256', info, privateKey);
  return der(SEQUENCE, info, der(SEQUENCE, OID_ECDSA_WITH_SHA256), der(BIT_STRING, Buffer.from([0]), signature));
}

/**
 * A fresh key pair and a CSR, made where the key will be used: the private key never leaves the
 * proxy, only the CSR travels to the control plane (which decides the identity it certifies).
 */
export async function createCsr(): Promise<{ keyPem: string; csrPem: string }> {
  const { publicKey, privateKey } = await generateEcKeyPair('ec', { namedCurve: 'P-256' });
  const csr = certificationRequest('sekisho', publicKey, privateKey);
  const lines = csr.toString('base64').match(/.{1,64}/g)!;
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`,
  };
}

import { KeyObject, webcrypto } from 'node:crypto';
import { x509 } from './x509.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** ECDSA P-256 with SHA-256 everywhere: small keys, fast handshakes, supported by every TLS stack. */
export const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

export type { CryptoKey };

export function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

export function privateKeyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** A PKCS#8 PEM private key back as a WebCrypto signing key. */
export async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, true, ['sign']) as Promise<CryptoKey>;
}

// Proxies make their CSRs without @peculiar/x509 (see csr.ts); the control plane makes its own the same way.
export { createCsr } from './csr.js';

/** `notAfter` of a PEM certificate, in ms since the epoch. */
export function certificateExpiry(certPem: string): number {
  return new x509.X509Certificate(certPem).notAfter.getTime();
}

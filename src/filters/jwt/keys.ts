import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A verification key and what it may verify. */
export interface VerificationKey {
  /** `kid` from the JWK; PEM keys have none and are tried for any kid. */
  readonly kid: string | undefined;
  readonly key: KeyObject;
}

/**
 * Whether `key` can verify `alg`: RSA for RS/PS, the matching curve for ES, Ed25519/Ed448 for
 * EdDSA. Keys of another type are never tried, which is also what stops RS→HS key confusion:
 * HS* only ever meets the configured secret.
 */
export function keyFits(key: KeyObject, alg: string): boolean {
  const type = key.asymmetricKeyType;
  switch (alg.slice(0, 2)) {
    case 'RS': return type === 'rsa';
    case 'PS': return type === 'rsa' || type === 'rsa-pss';
    case 'ES': return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVES[alg];
    case 'Ed': return type === 'ed25519' || type === 'ed448';
    default: return false;
  }
}

const CURVES: Readonly<Record<string, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** Public keys of a JWK Set (`{ keys: [...] }`); keys for encryption or of unknown types are skipped. */
export function keysOfJwks(document: unknown): VerificationKey[] {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('not a JWK Set: no "keys" array');
  return keys.flatMap((jwk) => {
    const verificationKey = keyOfJwk(jwk);
    return verificationKey === undefined ? [] : [verificationKey];
  });
}

function keyOfJwk(jwk: unknown): VerificationKey | undefined {
  if (jwk === null || typeof jwk !== 'object') return undefined;
  const { kid, use, kty } = jwk as { kid?: unknown; use?: unknown; kty?: unknown };
  if (use === 'enc' || kty === 'oct') return undefined;
  try {
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    return { kid: typeof kid === 'string' ? kid : undefined, key };
  } catch {
    return undefined; // an IdP may publish key types this Node cannot read; the others still count
  }
}

/**
 * Reads `keys: [{ file }]` entries: PEM (SPKI public key or X.509 certificate) or JSON (one JWK or
 * a JWK Set). Throws with the file named when a file is unreadable or holds no usable key.
 */
export function readKeyFile(file: string): VerificationKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`jwt key file ${file}: ${(error as Error).message}`);
  }
  try {
    if (text.trimStart().startsWith('{')) {
      const json = JSON.parse(text) as { keys?: unknown };
      const keys = keysOfJwks(Array.isArray(json.keys) ? json : { keys: [json] });
      if (keys.length === 0) throw new Error('no usable public key');
      return keys;
    }
    return [{ kid: undefined, key: createPublicKey(text) }];
  } catch (error) {
    throw new Error(`jwt key file ${file}: ${(error as Error).message}`);
  }
}

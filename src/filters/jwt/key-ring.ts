import { createSecretKey, type KeyObject } from 'node:crypto';
import type { JwtConfig } from '../../config/types.js';
import type { JwksCache } from './jwks.js';
import { keyFits, readKeyFile, type VerificationKey } from './keys.js';

/** The keys to try for one token. */
export interface Candidates {
  /** Exact kid matches first; at most a few. */
  readonly keys: readonly KeyObject[];
  /**
   * Whether the JWKS, unreachable right now, may hold the token's key: then a token no candidate
   * verifies gets 503 `auth_unavailable`, never 401.
   */
  readonly jwksUnavailable: boolean;
}

/** Candidates tried per token at most: a token naming no kid must not cost a signature check per key. */
const MAX_CANDIDATES = 4;

/**
 * Every key a gateway may verify with: the HMAC secret, key files, and a JWKS cache. Chooses the
 * candidates for one token from its `alg` and `kid`, refetching the JWKS when the kid is new.
 */
export class KeyRing {
  private readonly secret: KeyObject | undefined;
  private readonly fileKeys: readonly VerificationKey[];

  /** Reads the key files now; throws naming the file when one is unusable. */
  constructor(
    config: JwtConfig,
    private readonly jwks: JwksCache | undefined,
  ) {
    this.secret = config.secret === undefined ? undefined : createSecretKey(Buffer.from(config.secret, 'utf8'));
    this.fileKeys = config.keys.flatMap((k) => readKeyFile(k.file));
  }

  /** The keys to try for a token; waits only when the JWKS is refetched for a new kid. */
  async candidates(alg: string, kid: string | undefined): Promise<Candidates> {
    if (alg.startsWith('HS')) return { keys: this.secret === undefined ? [] : [this.secret], jwksUnavailable: false };
    const fromFiles = this.fileKeys.filter((k) => (k.kid === undefined || kid === undefined || k.kid === kid) && keyFits(k.key, alg));
    const jwks = this.jwks;
    if (jwks === undefined) return { keys: pick(fromFiles, kid), jwksUnavailable: false };
    let published = jwks.lookup(alg, kid);
    if (published.length === 0 && (kid !== undefined || !jwks.loaded)) {
      const refetch = jwks.refetch();
      if (refetch !== undefined) {
        await refetch;
        published = jwks.lookup(alg, kid);
      }
    }
    const jwksUnavailable = published.length === 0 && (!jwks.loaded || jwks.lastFetchFailed);
    return { keys: pick([...published, ...fromFiles], kid), jwksUnavailable };
  }
}

function pick(keys: readonly VerificationKey[], kid: string | undefined): KeyObject[] {
  const exact = kid === undefined ? [] : keys.filter((k) => k.kid === kid);
  return (exact.length > 0 ? exact : keys).slice(0, MAX_CANDIDATES).map((k) => k.key);
}

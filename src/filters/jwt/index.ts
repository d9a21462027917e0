import type { JwtConfig } from '../../config/types.js';
import type { ProxyMetrics } from '../../core/proxy-metrics.js';
import { JwtFilter } from './filter.js';
import type { JwksCache } from './jwks.js';
import { KeyRing } from './key-ring.js';
import { VerifiedTokenCache } from './token-cache.js';
import { TokenVerifier } from './verify.js';

export { JwtFilter, KeysUnusableFilter, MAX_TOKEN_LENGTH } from './filter.js';
export { JwksCache, DEFAULT_JWKS_TIMING, type JwksTiming } from './jwks.js';

/** Verified tokens remembered per config generation. */
const TOKEN_CACHE_CAPACITY = 10_000;

/**
 * The JWT filter of one config generation. `jwks` is the cache for `config.jwksUri`, kept by the
 * gateway across reloads. Key files are read now: an unusable one throws, naming the file.
 */
export function createJwtFilter(config: JwtConfig, jwks: JwksCache | undefined, metrics: ProxyMetrics): JwtFilter {
  const verifier = new TokenVerifier(config, new KeyRing(config, jwks));
  return new JwtFilter(config, verifier, new VerifiedTokenCache(TOKEN_CACHE_CAPACITY, config.clockSkewMs), metrics);
}

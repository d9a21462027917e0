import type { GatewayConfig } from '../../config/types.js';
import type { ProxyMetrics } from '../../core/proxy-metrics.js';
import { RateLimitFilter } from './filter.js';
import { compileRouteLimits, type StoreFor } from './policies.js';

export { RateLimitFilter } from './filter.js';
export { gcraStep, type RateDecision, type RatePolicy } from './gcra.js';
export { MemoryStore } from './stores/memory.js';
export { RedisStore } from './stores/redis.js';
export type { RateLimitStore } from './stores/store.js';
export type { StoreFor } from './policies.js';

/** The rate-limit filter of one generation, or undefined when no limit is configured. */
export function createRateLimitFilter(config: GatewayConfig, storeFor: StoreFor, metrics: ProxyMetrics): RateLimitFilter | undefined {
  const byRoute = compileRouteLimits(config, storeFor, metrics);
  return byRoute === undefined ? undefined : new RateLimitFilter(byRoute);
}

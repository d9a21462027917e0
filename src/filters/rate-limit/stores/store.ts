import type { RateDecision, RatePolicy } from '../gcra.js';

/**
 * Where the buckets live. Every store implements the same GCRA step (`gcra.ts`) and passes the
 * same conformance suite (`test/filters/rate-limit/store-conformance.ts`).
 *
 * `take` spends one request from `key`'s bucket under `policy`. A store that has to travel
 * (Redis) returns a promise, which rejects when the store is unreachable; the filter then
 * applies `failOpen`. The memory store answers synchronously.
 */
export interface RateLimitStore {
  take(key: string, policy: RatePolicy): RateDecision | Promise<RateDecision>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/**
 * The Generic Cell Rate Algorithm: a token bucket kept as one number per client, the
 * "theoretical arrival time" (TAT) at which the bucket would be full again. A request costs one
 * `intervalMs` (period / count) of that time; it is allowed while the debt stays within the
 * bucket (`burst` intervals). Both stores run exactly this arithmetic: the memory store in
 * JavaScript, the Redis store in the Lua script of `stores/redis.ts`.
 */

/** One limit as the stores see it, compiled once per config generation. */
export interface RatePolicy {
  /** Names the policy in `RateLimit-Policy` / `RateLimit` and in store keys (`gateway`, a route name). */
  readonly name: string;
  /** Milliseconds of bucket time one request costs: period / count. */
  readonly intervalMs: number;
  /** Requests a full bucket holds. */
  readonly burst: number;
}

/** What a store answers for one request. */
export interface RateDecision {
  readonly allowed: boolean;
  /** Requests still allowed right now after this one. */
  readonly remaining: number;
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number;
  /** When refused: milliseconds until one request would be allowed. */
  readonly retryAfterMs: number;
}

/** Rounding slack for floating-point bucket time (a microsecond). */
const EPSILON = 1e-3;

/**
 * One GCRA step. `tat` is the stored arrival time (undefined for a new client); returns the
 * decision and the TAT to store (unchanged when refused).
 */
export function gcraStep(tat: number | undefined, now: number, policy: RatePolicy): { decision: RateDecision; tat: number } {
  const start = tat === undefined || tat < now ? now : tat;
  const capacity = policy.burst * policy.intervalMs;
  const next = start + policy.intervalMs;
  const debt = next - now;
  if (debt > capacity + EPSILON) {
    return { decision: { allowed: false, remaining: 0, resetMs: start - now, retryAfterMs: debt - capacity }, tat: start };
  }
  const remaining = Math.floor((capacity - debt) / policy.intervalMs + EPSILON);
  return { decision: { allowed: true, remaining, resetMs: debt, retryAfterMs: 0 }, tat: next };
}

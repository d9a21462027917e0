import type { RequestContext } from '../../core/context.js';
import type { Filter, FilterResult } from '../../core/filter.js';
import { Problem } from '../../core/problem.js';
import type { RateDecision } from './gcra.js';
import type { ClientKeySource, RateCheck, RouteLimits } from './policies.js';

/**
 * Rate limiting (SPEC §3 `rateLimit`, §6 headers), after authentication so limits may key on
 * verified claims. Each of the route's checks spends one request from the client's bucket; the
 * first refusal answers 429 `rate_limited`.
 *
 * Headers follow draft-ietf-httpapi-ratelimit-headers (-08 and later): every answer carries
 * `RateLimit-Policy: "gateway";q=10;w=1` (quota per window in seconds, one item per check) and
 * `RateLimit: "gateway";r=3;t=1` (requests remaining, seconds until the bucket is full); a 429
 * adds `Retry-After` in whole seconds, at least 1.
 *
 * When the store cannot answer (Redis down), `failOpen` lets the request through without that
 * check's `RateLimit` item, or refuses it with 429 and `Retry-After: 1`.
 */
export class RateLimitFilter implements Filter {
  readonly name = 'rate-limit';

  /** `byRoute[route.config.index]`: the route's compiled limits, if any. */
  constructor(private readonly byRoute: readonly (RouteLimits | undefined)[]) {}

  onRequest(ctx: RequestContext): FilterResult {
    const limits = this.byRoute[ctx.route!.config.index];
    if (limits === undefined) return undefined;
    return this.runChecks(ctx, limits, 0, []);
  }

  /** Runs checks from `from` on, synchronously until a store answers with a promise. */
  private runChecks(ctx: RequestContext, limits: RouteLimits, from: number, items: string[]): FilterResult {
    const checks = limits.checks;
    for (let i = from; i < checks.length; i++) {
      const check = checks[i]!;
      const decision = check.store.take(check.keyPrefix + clientKey(ctx, check.by), check.policy);
      if (decision instanceof Promise) {
        return decision.then(
          (d) => this.afterDecision(ctx, limits, i, d, items),
          () => this.storeUnavailable(ctx, limits, i, items),
        );
      }
      const refusal = this.record(limits, check, decision, items);
      if (refusal !== undefined) return refusal;
    }
    ctx.responseHeaders.push('ratelimit-policy', limits.policyHeader);
    if (items.length > 0) ctx.responseHeaders.push('ratelimit', items.join(', '));
    return undefined;
  }

  private afterDecision(ctx: RequestContext, limits: RouteLimits, index: number, decision: RateDecision, items: string[]): FilterResult {
    const refusal = this.record(limits, limits.checks[index]!, decision, items);
    return refusal ?? this.runChecks(ctx, limits, index + 1, items);
  }

  /** Adds the check's `RateLimit` item; returns the 429 when the check refused. */
  private record(limits: RouteLimits, check: RateCheck, decision: RateDecision, items: string[]): Problem | undefined {
    const resetS = Math.ceil(decision.resetMs / 1000);
    const item = `"${check.policy.name}";r=${decision.remaining};t=${resetS}`;
    if (decision.allowed) {
      items.push(item);
      return undefined;
    }
    limits.rejected.inc();
    const retryAfter = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
    return new Problem('rate_limited', `rate limit "${check.policy.name}" exceeded; retry in ${retryAfter} s`, [
      'retry-after', retryAfter,
      'ratelimit-policy', limits.policyHeader,
      'ratelimit', item,
    ]);
  }

  private storeUnavailable(ctx: RequestContext, limits: RouteLimits, index: number, items: string[]): FilterResult {
    const check = limits.checks[index]!;
    if (check.failOpen) return this.runChecks(ctx, limits, index + 1, items);
    limits.rejected.inc();
    return new Problem('rate_limited', 'the rate-limit store is unreachable and failOpen is off', ['retry-after', '1']);
  }
}

/** The bucket a request counts against; without the claim or header asked for, the client IP. */
function clientKey(ctx: RequestContext, by: ClientKeySource): string {
  if (by.kind === 'claim') {
    const value = ctx.claims?.[by.claim];
    if (typeof value === 'string' || typeof value === 'number') return `jwt:${value}`;
  } else if (by.kind === 'header') {
    const value = ctx.header(by.header);
    if (value !== undefined && value !== '') return `h:${value}`;
  }
  return `ip:${ctx.clientIp}`;
}

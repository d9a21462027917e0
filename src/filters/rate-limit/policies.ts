import type { GatewayConfig, Rate } from '../../config/types.js';
import type { CounterChild } from '../../core/metrics.js';
import type { ProxyMetrics } from '../../core/proxy-metrics.js';
import type { RatePolicy } from './gcra.js';
import type { RateLimitStore } from './stores/store.js';

/** What a client is counted by (`by:` in the config). */
export type ClientKeySource =
  | { readonly kind: 'ip' }
  | { readonly kind: 'claim'; readonly claim: string }
  | { readonly kind: 'header'; readonly header: string };

/** One limit applied to a route's requests. */
export interface RateCheck {
  readonly policy: RatePolicy;
  /** This limit as one `RateLimit-Policy` item: `"gateway";q=10;w=1`. */
  readonly policyItem: string;
  readonly by: ClientKeySource;
  /** Prefix of this limit's bucket keys, so the gateway-wide and a route's buckets never mix. */
  readonly keyPrefix: string;
  readonly store: RateLimitStore;
  readonly failOpen: boolean;
}

/** Everything the filter needs for one route, compiled once per generation. */
export interface RouteLimits {
  /** The route's own limit first (narrower), then the gateway-wide one. */
  readonly checks: readonly RateCheck[];
  /** `RateLimit-Policy` value naming every check. */
  readonly policyHeader: string;
  readonly rejected: CounterChild;
}

/** Gives the store for a `store:` value (`memory` or a redis:// URL), shared across reloads. */
export type StoreFor = (store: string) => RateLimitStore;

/**
 * Compiles `gateway.rateLimit` and the routes' `rateLimit` into per-route check lists, indexed
 * by the route's position in the file. Both levels apply: the gateway-wide limit counts a
 * client's requests to every route, a route's own limit its requests to that route. A route
 * limit takes `by`, the store and `failOpen` from the gateway-wide one unless it says otherwise.
 * Returns undefined when no limit is configured anywhere.
 */
export function compileRouteLimits(config: GatewayConfig, storeFor: StoreFor, metrics: ProxyMetrics): (RouteLimits | undefined)[] | undefined {
  const gatewayWide = config.rateLimit;
  if (gatewayWide === undefined && config.routes.every((r) => r.rateLimit === undefined)) return undefined;
  const store = storeFor(gatewayWide?.store ?? 'memory');
  const failOpen = gatewayWide?.failOpen ?? true;
  const gatewayCheck = gatewayWide && rateCheck('gateway', gatewayWide.limit, gatewayWide.burst, {
    by: clientKeySource(gatewayWide.by),
    keyPrefix: 'g|',
    store,
    failOpen,
  });
  return config.routes.map((route) => {
    const checks: RateCheck[] = [];
    const own = route.rateLimit;
    if (own !== undefined) {
      checks.push(rateCheck(route.name, own.limit, own.burst ?? own.limit.count, {
        by: clientKeySource(own.by ?? gatewayWide?.by ?? 'ip'),
        keyPrefix: `r|${route.name}|`,
        store,
        failOpen,
      }));
    }
    if (gatewayCheck !== undefined) checks.push(gatewayCheck);
    if (checks.length === 0) return undefined;
    return {
      checks,
      policyHeader: checks.map((c) => c.policyItem).join(', '),
      rejected: metrics.rateLimitRejected.labels(metrics.role, route.name),
    };
  });
}

function rateCheck(name: string, limit: Rate, burst: number, rest: Omit<RateCheck, 'policy' | 'policyItem'>): RateCheck {
  const label = structuredFieldString(name);
  return {
    policy: { name: label, intervalMs: limit.periodMs / limit.count, burst },
    policyItem: `"${label}";q=${limit.count};w=${Math.round(limit.periodMs / 1000)}`,
    ...rest,
  };
}

/** A structured-field string (RFC 8941) may hold printable ASCII except `"` and `\`. */
function structuredFieldString(name: string): string {
  return name.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '_');
}

function clientKeySource(by: string): ClientKeySource {
  if (by.startsWith('jwt:')) return { kind: 'claim', claim: by.slice(4) };
  if (by.startsWith('header:')) return { kind: 'header', header: by.slice(7) };
  return { kind: 'ip' };
}

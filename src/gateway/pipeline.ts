import type { GatewayConfig, JwtConfig } from '../config/types.js';
import { Pipeline, type Filter } from '../core/filter.js';
import { routeFilter } from '../core/proxy/route-filter.js';
import type { ProxyMetrics } from '../core/proxy-metrics.js';
import type { Runtime } from '../core/runtime.js';
import { BodyLimitFilter } from '../filters/body-limit/index.js';
import { createCorsFilter } from '../filters/cors/index.js';
import { EdgeState } from '../filters/edge-state.js';
import type { EventLog } from '../filters/event-log.js';
import { createJwtFilter, KeysUnusableFilter } from '../filters/jwt/index.js';
import { createRateLimitFilter } from '../filters/rate-limit/index.js';

export interface GatewayPipeline {
  readonly pipeline: Pipeline;
  /** Request headers clients may never send (forwarded JWT claims), lower-case. */
  readonly strippedHeaders: ReadonlySet<string>;
}

/** The edge state each pipeline was built with, handed from a generation to the next. */
const edgeStates = new WeakMap<Pipeline, EdgeState>();
/** The newest pipeline using each edge state: the one that closes it when the gateway stops. */
const owners = new WeakMap<EdgeState, Pipeline>();

/**
 * The gateway's filter order, readable in one place:
 *   cors → route → jwt → rate-limit → body-limit
 * CORS comes before routing so a preflight needs neither a route nor a token; authentication
 * before rate limiting so limits may key on verified claims; the body is looked at last, once
 * the request is known to be allowed at all.
 *
 * `previous` is the generation being replaced: its edge state (buckets, Redis clients, JWKS
 * caches) carries over. `log` hears when a JWKS endpoint or a Redis store goes down or comes
 * back. Throws at startup when a JWT key file is unusable.
 */
export function buildGatewayPipeline(
  config: GatewayConfig,
  metrics: ProxyMetrics,
  previous?: Runtime,
  log?: EventLog,
): GatewayPipeline {
  const state = (previous && edgeStates.get(previous.pipeline)) ?? new EdgeState(log);
  state.beginGeneration();
  const filters: Filter[] = [];
  if (config.cors !== undefined) filters.push(createCorsFilter(config.cors));
  filters.push(routeFilter);
  const jwt = config.auth?.jwt;
  if (jwt !== undefined) filters.push(jwtFilter(jwt, state, metrics, previous !== undefined));
  const rateLimit = createRateLimitFilter(config, (store) => state.store(store), metrics);
  if (rateLimit !== undefined) filters.push(rateLimit);
  if (config.maxBodySize !== undefined) filters.push(new BodyLimitFilter(config.maxBodySize));
  state.endGeneration();

  const pipeline: Pipeline = new Pipeline(filters, () => {
    if (owners.get(state) === pipeline) state.close();
  });
  owners.set(state, pipeline);
  edgeStates.set(pipeline, state);
  return { pipeline, strippedHeaders: new Set(Object.values(jwt?.forwardClaims ?? {})) };
}

/**
 * An unusable key file stops a starting gateway; a reload must not crash a serving one, so
 * there the routes needing a token fail closed (503) until the file is fixed.
 */
function jwtFilter(config: JwtConfig, state: EdgeState, metrics: ProxyMetrics, reloading: boolean): Filter {
  const jwks = config.jwksUri === undefined ? undefined : state.jwks(config.jwksUri);
  try {
    return createJwtFilter(config, jwks, metrics);
  } catch (error) {
    if (!reloading) throw error;
    return new KeysUnusableFilter((error as Error).message);
  }
}

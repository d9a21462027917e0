import type { GatewayConfig } from '../config/types.js';
import { Pipeline, type Filter } from '../core/filter.js';
import { routeFilter } from '../core/proxy/route-filter.js';
import type { ProxyMetrics } from '../core/proxy-metrics.js';
import type { Runtime } from '../core/runtime.js';

export interface GatewayPipeline {
  readonly pipeline: Pipeline;
  /** Request headers clients may never send (forwarded JWT claims), lower-case. */
  readonly strippedHeaders: ReadonlySet<string>;
}

/**
 * The gateway's filter order, readable in one place. Filters before `route` see no route yet.
 * `previous` is the generation being replaced, for filters that carry state across reloads.
 */
export function buildGatewayPipeline(config: GatewayConfig, _metrics: ProxyMetrics, _previous?: Runtime): GatewayPipeline {
  const filters: Filter[] = [routeFilter];
  const strippedHeaders = new Set(Object.values(config.auth?.jwt?.forwardClaims ?? {}));
  return { pipeline: new Pipeline(filters), strippedHeaders };
}

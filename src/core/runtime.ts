import type { RouteConfig, SekishoConfig, ServiceConfig, ServiceEndpoint } from '../config/types.js';
import type { Pipeline } from './filter.js';
import type { CounterChild, HistogramChild } from './metrics.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import type { TrustedProxies } from './trusted-proxies.js';
import { createRouter, rewritePath } from './router/index.js';
import type { Router } from './router/types.js';
import { Endpoint } from './service/endpoint.js';
import { Service, type ServiceOptions } from './service/service.js';
import { Http1Transport } from './upstream/http1.js';
import type { UpstreamTransport } from './upstream/transport.js';

/**
 * Per-route counters, resolved lazily per (version, status) and then reused, so counting a
 * request is two array/map reads and an add.
 */
export class RouteStats {
  private readonly byVersion = new Map<string, CounterChild[]>();
  readonly duration: HistogramChild;

  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly route: string,
    private readonly service: string,
  ) {
    this.duration = metrics.duration.labels(metrics.role, route, service);
  }

  count(version: string, status: number): void {
    let byStatus = this.byVersion.get(version);
    if (byStatus === undefined) this.byVersion.set(version, (byStatus = []));
    let child = byStatus[status];
    if (child === undefined) {
      child = this.metrics.requests.labels(this.metrics.role, this.route, this.service, version, String(status));
      byStatus[status] = child;
    }
    child.inc();
  }
}

/** A route of one config generation, bound to its service. */
export class Route {
  readonly name: string;
  readonly timeoutMs: number;
  readonly stats: RouteStats;
  /** Whether the path is forwarded as routed (no stripPrefix/rewrite): skips the rewrite call. */
  private readonly keepsPath: boolean;

  constructor(
    readonly config: RouteConfig,
    readonly service: Service,
    metrics: ProxyMetrics,
  ) {
    this.name = config.name;
    this.timeoutMs = config.timeoutMs ?? service.config.timeoutMs;
    this.stats = new RouteStats(metrics, config.name, service.name);
    this.keepsPath = config.stripPrefix === undefined && config.rewrite === undefined;
  }

  upstreamPath(path: string): string {
    return this.keepsPath ? path : rewritePath(this.config, path);
  }
}

/**
 * One immutable generation of configuration, compiled: routes, router, services, pipeline.
 * A request takes the generation in force when it arrives and keeps it to the end, so a reload
 * (a new generation swapped in) never changes a request half-way.
 */
export class Runtime {
  /** Stats for requests that matched no route. */
  readonly unrouted: RouteStats;

  constructor(
    readonly version: number,
    readonly config: SekishoConfig,
    readonly services: ReadonlyMap<string, Service>,
    readonly routes: readonly Route[],
    readonly router: Router<Route>,
    readonly pipeline: Pipeline,
    readonly trustedProxies: TrustedProxies,
    /** Request headers only Sekisho may set (forwarded JWT claims), lower-case; removed from clients' requests. */
    readonly strippedHeaders: ReadonlySet<string>,
    metrics: ProxyMetrics,
  ) {
    this.unrouted = new RouteStats(metrics, '', '');
  }

  start(): void {
    for (const service of this.services.values()) service.start();
  }

  /** Stops background work (health checks); connections are released by `releaseEndpoints`. */
  stop(): void {
    for (const service of this.services.values()) service.stop();
    this.pipeline.close();
  }
}

/** Endpoints keyed by what makes their connections interchangeable. */
function endpointKey(service: ServiceConfig, url: string): string {
  return `${service.name} ${url} ${service.protocol} ${service.connectTimeoutMs}`;
}

/** Opens the connections to one endpoint: plain HTTP/1.1 for static endpoints, mTLS in the mesh. */
export type TransportFactory = (service: ServiceConfig, endpoint: ServiceEndpoint) => UpstreamTransport;

export const plainHttpTransport: TransportFactory = (service, endpoint) =>
  new Http1Transport(endpoint.url, { connectTimeoutMs: service.connectTimeoutMs });

/**
 * Builds the services of `config`. Endpoints (their pools and health state) whose key did not
 * change are taken over from `previous`, so a reload keeps warm connections and health verdicts;
 * so are each service's circuit-breaker counts and retry budget while their limits stay the same.
 *
 * `options.callerSide: false` is for a sidecar's inbound side: no retries, traffic split,
 * mirroring or fault injection there, since the caller's hop already applied them (see
 * `ServiceOptions`).
 */
export function buildServices(
  config: SekishoConfig,
  metrics: ProxyMetrics,
  previous?: ReadonlyMap<string, Service>,
  transportFor: TransportFactory = plainHttpTransport,
  options: ServiceOptions = {},
): Map<string, Service> {
  const reusable = new Map<string, Endpoint>();
  for (const service of previous?.values() ?? []) {
    for (const endpoint of service.endpoints) reusable.set(endpointKey(service.config, endpoint.config.url), endpoint);
  }
  const services = new Map<string, Service>();
  for (const serviceConfig of Object.values(config.services)) {
    const endpoints = (serviceConfig.endpoints ?? []).map((ep) => {
      const old = reusable.get(endpointKey(serviceConfig, ep.url));
      if (old !== undefined && old.config.weight === ep.weight && old.config.version === ep.version) return old;
      return new Endpoint(ep, transportFor(serviceConfig, ep));
    });
    services.set(serviceConfig.name, new Service(serviceConfig, endpoints, metrics, options, previous?.get(serviceConfig.name)));
  }
  return services;
}

export function buildRoutes(
  routes: readonly RouteConfig[],
  services: ReadonlyMap<string, Service>,
  metrics: ProxyMetrics,
): { routes: Route[]; router: Router<Route> } {
  const built = routes.map((r) => new Route(r, services.get(r.service)!, metrics));
  return { routes: built, router: createRouter(built) };
}

/** Closes the connection pools of `previous` that `next` no longer uses (after their requests finish). */
export async function releaseEndpoints(
  previous: ReadonlyMap<string, Service>,
  next: ReadonlyMap<string, Service> | undefined,
): Promise<void> {
  const kept = new Set<Endpoint>();
  for (const service of next?.values() ?? []) for (const e of service.endpoints) kept.add(e);
  const closing: Promise<void>[] = [];
  for (const service of previous.values()) {
    for (const endpoint of service.endpoints) if (!kept.has(endpoint)) closing.push(endpoint.transport.close());
  }
  await Promise.allSettled(closing);
}


import type { RouteConfig, SekishoConfig, ServiceConfig } from '../config/types.js';
import { Pipeline } from '../core/filter.js';
import { routeFilter } from '../core/proxy/route-filter.js';
import type { ProxyMetrics } from '../core/proxy-metrics.js';
import { buildRoutes, buildServices, Runtime, type TransportFactory } from '../core/runtime.js';
import { TrustedProxies } from '../core/trusted-proxies.js';
import { authorizationFilter } from './authorization.js';
import { awaitEndpointsFilter, type Generations } from './await-endpoints.js';

const NO_HEADERS: ReadonlySet<string> = new Set();
/**
 * Only mesh members reach the inbound listener (mTLS with the mesh CA), so the X-Forwarded-For
 * chain they send — the gateway's client address — is kept and extended, not replaced.
 */
const MESH_PEERS = ['0.0.0.0/0', '::/0'];
/** How long an outbound call waits for the first instance of its service. */
export const ENDPOINT_WAIT_MS = 5000;

/**
 * The outbound side: one route per service, matched by host (`http://billing/…` in proxy form or
 * `Host: billing`), to the service's instances over mTLS. Retries, splits and the other
 * caller-side policies apply here.
 */
export function buildOutboundRuntime(
  config: SekishoConfig,
  version: number,
  metrics: ProxyMetrics,
  previous: Runtime | undefined,
  transports: TransportFactory,
  generations: Generations,
): Runtime {
  const services = buildServices(config, metrics, previous?.services, transports);
  const routeConfigs: RouteConfig[] = Object.values(config.services).map((service, index) => ({
    name: service.name,
    index,
    match: { hosts: [service.name] },
    service: service.name,
    auth: 'none',
  }));
  const { routes, router } = buildRoutes(routeConfigs, services, metrics);
  const pipeline = new Pipeline([routeFilter, awaitEndpointsFilter(generations, ENDPOINT_WAIT_MS)]);
  return new Runtime(version, config, services, routes, router, pipeline, new TrustedProxies([]), NO_HEADERS, metrics);
}

/**
 * The inbound side: every request that passed mTLS goes through the service's authorization and
 * then to the app on loopback. Built with `callerSide: false`: the caller's hop already retried.
 */
export function buildInboundRuntime(
  config: SekishoConfig,
  serviceName: string,
  app: { host: string; port: number; version: string },
  version: number,
  metrics: ProxyMetrics,
  previous: Runtime | undefined,
): Runtime {
  const own = config.services[serviceName]!;
  const local: ServiceConfig = {
    ...own,
    healthCheck: undefined,
    endpoints: [{ url: `http://${app.host}:${app.port}`, host: app.host, port: app.port, protocol: 'http:', weight: 1, version: app.version }],
  };
  const localConfig: SekishoConfig = { ...config, services: { [serviceName]: local } };
  const services = buildServices(localConfig, metrics, previous?.services, undefined, { callerSide: false });
  const { routes, router } = buildRoutes([{ name: 'inbound', index: 0, match: {}, service: serviceName, auth: 'none' }], services, metrics);
  const pipeline = new Pipeline([routeFilter, authorizationFilter(config.mesh, own)]);
  return new Runtime(version, localConfig, services, routes, router, pipeline, new TrustedProxies(MESH_PEERS), NO_HEADERS, metrics);
}

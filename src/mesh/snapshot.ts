import type { SekishoConfig, ServiceConfig, ServiceEndpoint } from '../config/types.js';

/** One registered instance as proxies see it: the address of its sidecar's inbound (mTLS) listener. */
export interface MeshEndpoint {
  readonly host: string;
  readonly port: number;
  readonly version: string;
}

/**
 * What the control plane pushes to every proxy, whole, on every change: the mesh config (secrets
 * removed), the registry's endpoints per service, and live traffic splits. Whole snapshots keep
 * the protocol trivially idempotent: a proxy that missed versions just applies the latest.
 */
export interface Snapshot {
  readonly version: number;
  readonly config: SekishoConfig;
  /** service → instances, for services without static `endpoints`. */
  readonly endpoints: Readonly<Record<string, readonly MeshEndpoint[]>>;
  /** service → version → weight, set with `ctl split`; replaces the service's unconditional traffic rule. */
  readonly splits: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Whether a service's instances come from the mesh registry (it has no static endpoints). */
export function isMeshService(service: ServiceConfig): boolean {
  return service.endpoints === undefined;
}

/**
 * The config a proxy runs for a snapshot: mesh services get their registered instances as
 * `https://` endpoints (the mTLS transport's cue) with version labels, and live splits.
 */
export function meshConfig(snapshot: Snapshot): SekishoConfig {
  const services: Record<string, ServiceConfig> = {};
  for (const [name, service] of Object.entries(snapshot.config.services)) {
    const split = snapshot.splits[name];
    let composed: ServiceConfig = service;
    if (isMeshService(service)) composed = { ...composed, endpoints: (snapshot.endpoints[name] ?? []).map(meshServiceEndpoint) };
    if (split !== undefined) composed = { ...composed, traffic: [...(service.traffic ?? []).filter((rule) => rule.match !== undefined), { to: split }] };
    services[name] = composed;
  }
  return { ...snapshot.config, services };
}

function meshServiceEndpoint(endpoint: MeshEndpoint): ServiceEndpoint {
  return {
    url: `https://${endpoint.host}:${endpoint.port}`,
    host: endpoint.host,
    port: endpoint.port,
    protocol: 'https:',
    weight: 1,
    version: endpoint.version,
  };
}

/** The config as pushed: the join and admin tokens stay on the control plane. */
export function publicConfig(config: SekishoConfig): SekishoConfig {
  if (config.controlPlane === undefined) return config;
  const { joinToken: _join, adminToken: _admin, ...controlPlane } = config.controlPlane;
  return { ...config, controlPlane: { ...controlPlane, ca: { certTTLMs: config.controlPlane.ca.certTTLMs } } };
}

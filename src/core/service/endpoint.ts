import type { ServiceEndpoint } from '../../config/types.js';
import type { UpstreamTransport } from '../upstream/transport.js';
import { hashString } from './sticky.js';

/** The service currently responsible for an endpoint (endpoints outlive config reloads). */
export interface EndpointOwner {
  availabilityChanged(endpoint: Endpoint): void;
}

/**
 * One upstream instance of a service and everything known about it: its connections, its load,
 * its active-health and outlier state. Balancers read `active`; only `available` endpoints are
 * offered to them.
 */
export class Endpoint {
  /** Requests in flight to this endpoint (least-request balancing, /clusters). */
  active = 0;
  totalRequests = 0;
  totalFailures = 0;

  /** Active health-check verdict; true until a check says otherwise. */
  healthy = true;
  healthSuccesses = 0;
  healthFailures = 0;
  lastHealthError = '';

  /** Outlier detection (passive): consecutive failures seen on real traffic. */
  consecutive5xx = 0;
  consecutiveGatewayFailures = 0;
  ejected = false;
  ejections = 0;
  ejectedUntil = 0;

  /** Set by the service that adopted this endpoint; a reload hands it to the next one. */
  owner: EndpointOwner | undefined = undefined;

  /** Hash of the URL: this endpoint's stable identity for sticky (rendezvous) picking. */
  readonly stickySeed: number;

  constructor(
    readonly config: ServiceEndpoint,
    readonly transport: UpstreamTransport,
  ) {
    this.stickySeed = hashString(config.url);
  }

  /** `host:port`, the name endpoints go by in logs and metrics. */
  get address(): string {
    return this.config.host.includes(':') ? `[${this.config.host}]:${this.config.port}` : `${this.config.host}:${this.config.port}`;
  }

  get available(): boolean {
    return this.healthy && !this.ejected;
  }

  /** The /clusters view. */
  snapshot(): Record<string, unknown> {
    return {
      url: this.config.url,
      address: this.address,
      version: this.config.version,
      weight: this.config.weight,
      healthy: this.healthy,
      ejected: this.ejected,
      ejections: this.ejections,
      ejectedUntil: this.ejected ? new Date(this.ejectedUntil).toISOString() : null,
      lastHealthError: this.lastHealthError || null,
      active: this.active,
      totalRequests: this.totalRequests,
      totalFailures: this.totalFailures,
    };
  }
}

import type { ServiceConfig } from '../../config/types.js';
import type { ProxyMetrics } from '../proxy-metrics.js';
import type { GaugeChild } from '../metrics.js';
import { createBalancer, type Balancer } from './balancer.js';
import type { Endpoint } from './endpoint.js';
import { HealthChecker } from './health-check.js';
import { OutlierDetector, type OutlierHost } from './outlier.js';

/**
 * A named upstream service of one config generation: its endpoints, how one is chosen, and the
 * health knowledge that decides which may be chosen. The list offered to the balancer is rebuilt
 * only when an endpoint's availability changes, never per request.
 */
export class Service implements OutlierHost {
  readonly name: string;
  private available: Endpoint[];
  private readonly balancer: Balancer;
  readonly outliers: OutlierDetector;
  private readonly healthChecker: HealthChecker | undefined;
  private readonly ejectedGauges = new Map<Endpoint, GaugeChild>();
  private readonly healthyGauges = new Map<Endpoint, GaugeChild>();

  constructor(
    readonly config: ServiceConfig,
    readonly endpoints: readonly Endpoint[],
    metrics: ProxyMetrics,
  ) {
    this.name = config.name;
    this.balancer = createBalancer(config.loadBalancer);
    this.outliers = new OutlierDetector(config.outlierDetection, this);
    this.healthChecker = config.healthCheck ? new HealthChecker(config.healthCheck, this) : undefined;
    for (const endpoint of endpoints) {
      endpoint.owner = this;
      this.ejectedGauges.set(endpoint, metrics.outlierEjected.labels(metrics.role, this.name, endpoint.address));
      this.healthyGauges.set(endpoint, metrics.endpointHealthy.labels(metrics.role, this.name, endpoint.address));
    }
    this.available = endpoints.filter((e) => e.available);
    this.updateGauges();
  }

  /** An endpoint for the next attempt, or undefined when none is available. */
  pick(): Endpoint | undefined {
    const available = this.available;
    if (available.length === 0) return undefined;
    return this.balancer.pick(available);
  }

  availabilityChanged(): void {
    this.available = this.endpoints.filter((e) => e.available);
    this.updateGauges();
  }

  start(): void {
    this.healthChecker?.start();
  }

  stop(): void {
    this.healthChecker?.stop();
  }

  /** The /clusters view. */
  snapshot(): Record<string, unknown> {
    return {
      name: this.name,
      loadBalancer: this.config.loadBalancer,
      healthCheck: this.config.healthCheck ? { path: this.config.healthCheck.path } : null,
      available: this.available.length,
      endpoints: this.endpoints.map((e) => e.snapshot()),
    };
  }

  private updateGauges(): void {
    for (const endpoint of this.endpoints) {
      this.ejectedGauges.get(endpoint)!.set(endpoint.ejected ? 1 : 0);
      this.healthyGauges.get(endpoint)!.set(endpoint.healthy ? 1 : 0);
    }
  }
}

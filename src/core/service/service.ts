import type { ServiceConfig } from '../../config/types.js';
import type { ProxyMetrics } from '../proxy-metrics.js';
import type { CounterChild, GaugeChild } from '../metrics.js';
import { FaultInjector } from '../traffic/fault.js';
import { Mirror } from '../traffic/mirror.js';
import { RetryBudget } from '../traffic/retry-budget.js';
import { RetryPolicy } from '../traffic/retry-policy.js';
import { CircuitBreaker } from './breaker.js';
import type { Endpoint } from './endpoint.js';
import { EndpointSet } from './endpoint-set.js';
import { HealthChecker } from './health-check.js';
import { OutlierDetector, type OutlierHost } from './outlier.js';
import { TrafficSplit } from './split.js';
import { StickyKey } from './sticky.js';

/**
 * How a role uses a service. The policies that decide where and how often a request goes —
 * retries, traffic split, mirroring, fault injection — belong to one hop only, the caller's side:
 * the gateway, or a sidecar's outbound listener. A sidecar's inbound side builds its services
 * with `callerSide: false`, so a request crossing two sidecars is retried (split, mirrored,
 * faulted) once, never at both ends. Timeouts, the circuit breaker and outlier detection apply
 * on both sides.
 */
export interface ServiceOptions {
  /** Default true. */
  readonly callerSide?: boolean;
}

/**
 * A named upstream service of one config generation: its endpoints grouped by version, how a
 * request picks among them, the health knowledge that decides which may be picked, and the
 * traffic policies compiled from its config. Availability lists are rebuilt only when an
 * endpoint's availability changes, never per request.
 */
export class Service implements OutlierHost {
  readonly name: string;
  /** Every endpoint, whatever its version. */
  readonly all: EndpointSet;
  /** One set per version named by an endpoint, a traffic rule or the mirror. */
  readonly versions: ReadonlyMap<string, EndpointSet>;
  readonly split: TrafficSplit | undefined;
  readonly sticky: StickyKey | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly retryBudget: RetryBudget | undefined;
  readonly fault: FaultInjector | undefined;
  readonly mirror: Mirror | undefined;
  readonly breaker: CircuitBreaker;
  readonly outliers: OutlierDetector;
  readonly retries: CounterChild;
  readonly retriesDenied: CounterChild;
  readonly faults: { readonly delay: CounterChild; readonly abort: CounterChild };
  private readonly healthChecker: HealthChecker | undefined;
  private readonly ejectedGauges = new Map<Endpoint, GaugeChild>();
  private readonly healthyGauges = new Map<Endpoint, GaugeChild>();

  constructor(
    readonly config: ServiceConfig,
    readonly endpoints: readonly Endpoint[],
    metrics: ProxyMetrics,
    options: ServiceOptions = {},
    /** The same service in the generation being replaced: in-flight counts carry over. */
    previous?: Service,
  ) {
    this.name = config.name;
    const role = metrics.role;
    const callerSide = options.callerSide ?? true;
    this.all = new EndpointSet('*', endpoints, config.loadBalancer);
    const versions = new Map<string, EndpointSet>();
    const setFor = (version: string): EndpointSet => {
      let set = versions.get(version);
      if (set === undefined) {
        set = new EndpointSet(version, endpoints.filter((e) => e.config.version === version), config.loadBalancer);
        versions.set(version, set);
      }
      return set;
    };
    for (const endpoint of endpoints) setFor(endpoint.config.version);
    this.versions = versions;

    this.split = callerSide && config.traffic ? new TrafficSplit(config.traffic, setFor, this.all) : undefined;
    this.sticky = config.sticky ? new StickyKey(config.sticky) : undefined;
    this.fault = callerSide && config.fault ? new FaultInjector(config.fault) : undefined;
    this.mirror = callerSide && config.mirror && config.mirror.percent > 0
      ? new Mirror(
          setFor(config.mirror.to),
          config.mirror.percent,
          config.circuitBreaker.maxRequests,
          metrics.mirrored.labels(role, this.name, config.mirror.to, 'sent'),
          metrics.mirrored.labels(role, this.name, config.mirror.to, 'skipped'),
        )
      : undefined;

    const retries = callerSide && config.retries && config.retries.attempts > 1 ? config.retries : undefined;
    this.retryPolicy = retries ? new RetryPolicy(retries) : undefined;
    const sameBudget = previous?.retryBudget !== undefined && sameRetryBudget(previous.config, config);
    this.retryBudget = retries ? (sameBudget ? previous.retryBudget : new RetryBudget(retries.budget, retries.minRetriesPerSecond)) : undefined;
    this.retries = metrics.retries.labels(role, this.name);
    this.retriesDenied = metrics.retryBudgetExhausted.labels(role, this.name);
    this.faults = { delay: metrics.faults.labels(role, this.name, 'delay'), abort: metrics.faults.labels(role, this.name, 'abort') };

    const sameLimits = previous !== undefined && previous.breaker.config.maxRequests === config.circuitBreaker.maxRequests && previous.breaker.config.maxPending === config.circuitBreaker.maxPending;
    this.breaker = sameLimits ? previous.breaker : new CircuitBreaker(config.circuitBreaker, metrics.circuitOpen.labels(role, this.name));

    this.outliers = new OutlierDetector(config.outlierDetection, this);
    this.healthChecker = config.healthCheck ? new HealthChecker(config.healthCheck, this) : undefined;
    for (const endpoint of endpoints) {
      endpoint.owner = this;
      this.ejectedGauges.set(endpoint, metrics.outlierEjected.labels(role, this.name, endpoint.address));
      this.healthyGauges.set(endpoint, metrics.endpointHealthy.labels(role, this.name, endpoint.address));
    }
    this.updateGauges();
  }

  availabilityChanged(): void {
    this.all.refresh();
    for (const set of this.versions.values()) set.refresh();
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
      available: this.all.availableCount,
      versions: Object.fromEntries([...this.versions].map(([version, set]) => [version, { endpoints: set.endpoints.length, available: set.availableCount }])),
      traffic: this.split ? this.config.traffic : null,
      mirror: this.mirror ? { ...this.config.mirror, inFlight: this.mirror.inFlight } : null,
      circuitBreaker: this.breaker.snapshot(),
      retryBudget: this.retryBudget?.snapshot() ?? null,
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

function sameRetryBudget(a: ServiceConfig, b: ServiceConfig): boolean {
  return a.retries?.budget === b.retries?.budget && a.retries?.minRetriesPerSecond === b.retries?.minRetriesPerSecond;
}

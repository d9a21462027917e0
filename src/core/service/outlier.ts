import type { OutlierDetectionConfig } from '../../config/types.js';
import type { Endpoint } from './endpoint.js';

/** What the detector needs of the service it watches. */
export interface OutlierHost {
  readonly endpoints: readonly Endpoint[];
  /** Called after an endpoint was ejected or re-admitted. */
  availabilityChanged(endpoint: Endpoint): void;
}

/**
 * Passive failure marking on real traffic (Envoy's outlier detection, Linkerd's failure accrual):
 * an endpoint that fails `consecutiveGatewayFailure` times in a row (connect failure, reset,
 * timeout) or answers `consecutive5xx` 5xx in a row is ejected for `ejectionTime` × the number
 * of times it has been ejected, capped at `maxEjectionTime`. Ejections never exceed
 * `maxEjectedPercent` of the endpoints, and one endpoint always stays.
 */
export class OutlierDetector {
  constructor(
    private readonly config: OutlierDetectionConfig,
    private readonly host: OutlierHost,
  ) {}

  recordSuccess(endpoint: Endpoint): void {
    endpoint.consecutive5xx = 0;
    endpoint.consecutiveGatewayFailures = 0;
  }

  /** A response with status ≥ 500 that came from the upstream application itself. */
  record5xx(endpoint: Endpoint): void {
    endpoint.consecutiveGatewayFailures = 0;
    endpoint.consecutive5xx++;
    const limit = this.config.consecutive5xx;
    if (limit > 0 && endpoint.consecutive5xx >= limit) this.eject(endpoint);
  }

  /** No usable response at all: connect failure, reset or timeout. */
  recordGatewayFailure(endpoint: Endpoint): void {
    endpoint.consecutiveGatewayFailures++;
    const limit = this.config.consecutiveGatewayFailure;
    if (limit > 0 && endpoint.consecutiveGatewayFailures >= limit) this.eject(endpoint);
  }

  private mayEject(): boolean {
    const endpoints = this.host.endpoints;
    let ejected = 0;
    for (const e of endpoints) if (e.ejected) ejected++;
    const allowed = Math.min(Math.floor((endpoints.length * this.config.maxEjectedPercent) / 100), endpoints.length - 1);
    return ejected < allowed;
  }

  private eject(endpoint: Endpoint): void {
    if (endpoint.ejected || !this.mayEject()) return;
    endpoint.ejected = true;
    endpoint.ejections++;
    const duration = Math.min(this.config.ejectionTimeMs * endpoint.ejections, this.config.maxEjectionTimeMs);
    endpoint.ejectedUntil = Date.now() + duration;
    setTimeout(readmit, duration, endpoint).unref();
    this.host.availabilityChanged(endpoint);
  }
}

/** Ends an ejection; tells whichever service owns the endpoint by then (a reload may have swapped it). */
function readmit(endpoint: Endpoint): void {
  endpoint.ejected = false;
  endpoint.consecutive5xx = 0;
  endpoint.consecutiveGatewayFailures = 0;
  endpoint.owner?.availabilityChanged(endpoint);
}

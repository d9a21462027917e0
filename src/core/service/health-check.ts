import type { HealthCheckConfig } from '../../config/types.js';
import type { Endpoint } from './endpoint.js';
import type { OutlierHost } from './outlier.js';

/**
 * Active health checking: every `interval`, GET `path` on each endpoint over its own pool.
 * A 2xx counts as a success; anything else, a timeout or a connection error as a failure.
 * `unhealthyAfter` failures in a row take an endpoint out of rotation, `healthyAfter` successes
 * in a row bring it back. Endpoints start healthy so a fresh gateway serves at once.
 */
export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly probing = new Set<Endpoint>();

  constructor(
    private readonly config: HealthCheckConfig,
    private readonly host: OutlierHost,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.checkAll();
    this.timer = setInterval(() => this.checkAll(), this.config.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private checkAll(): void {
    for (const endpoint of this.host.endpoints) {
      if (this.probing.has(endpoint)) continue; // the previous probe is still waiting
      this.probing.add(endpoint);
      endpoint.transport.probe(this.config.path, this.config.timeoutMs).then(
        (status) => this.record(endpoint, status >= 200 && status < 300, `status ${status}`),
        (error: Error) => this.record(endpoint, false, error.message),
      );
    }
  }

  private record(endpoint: Endpoint, ok: boolean, detail: string): void {
    this.probing.delete(endpoint);
    if (this.timer === undefined) return; // stopped while the probe was out
    if (ok) {
      endpoint.healthFailures = 0;
      endpoint.healthSuccesses++;
      endpoint.lastHealthError = '';
      if (!endpoint.healthy && endpoint.healthSuccesses >= this.config.healthyAfter) {
        endpoint.healthy = true;
        this.host.availabilityChanged(endpoint);
      }
    } else {
      endpoint.healthSuccesses = 0;
      endpoint.healthFailures++;
      endpoint.lastHealthError = detail;
      if (endpoint.healthy && endpoint.healthFailures >= this.config.unhealthyAfter) {
        endpoint.healthy = false;
        this.host.availabilityChanged(endpoint);
      }
    }
  }
}

import type { CircuitBreakerConfig } from '../../config/types.js';
import type { GaugeChild } from '../metrics.js';

/** A request waiting for a slot; told when it gets one. */
export interface BreakerWaiter {
  admitted(): void;
}

export type Admission = 'admitted' | 'queued' | 'rejected';

/**
 * The service's circuit breaker (Envoy's cluster circuit breakers): at most `maxRequests`
 * requests in flight to the service's endpoints; up to `maxPending` more wait, first come first
 * served, for one of them to finish; anything beyond is refused at once (503 `circuit_open`) so
 * an overloaded service sheds load instead of queueing without end. A waiting request leaves the
 * queue when its deadline passes or its client goes away (`withdraw`).
 *
 * A request holds its slot from admission to the end of its response, retries included.
 * `sekisho_circuit_open` is 1 from a refusal until there is room again.
 */
export class CircuitBreaker {
  active = 0;
  /** In arrival order (a Set keeps insertion order and deletes in O(1)). */
  private readonly waiting = new Set<BreakerWaiter>();
  /** Refusals since start, for /clusters. */
  rejected = 0;

  constructor(
    readonly config: CircuitBreakerConfig,
    private readonly openGauge: GaugeChild,
  ) {}

  get pending(): number {
    return this.waiting.size;
  }

  get open(): boolean {
    return this.openGauge.value === 1;
  }

  admit(waiter: BreakerWaiter): Admission {
    if (this.active < this.config.maxRequests) {
      this.active++;
      return 'admitted';
    }
    if (this.waiting.size < this.config.maxPending) {
      this.waiting.add(waiter);
      return 'queued';
    }
    this.rejected++;
    this.openGauge.set(1);
    return 'rejected';
  }

  /** A queued request gave up (deadline, client gone). */
  withdraw(waiter: BreakerWaiter): void {
    if (this.waiting.delete(waiter)) this.closeIfRoom();
  }

  /** An admitted request finished: its slot goes to the longest-waiting request, if any. */
  release(): void {
    const next = this.waiting.values().next();
    if (next.done === true) {
      this.active--;
    } else {
      this.waiting.delete(next.value);
      next.value.admitted(); // the slot passes over: `active` stays
    }
    this.closeIfRoom();
  }

  private closeIfRoom(): void {
    if (this.openGauge.value === 1 && (this.active < this.config.maxRequests || this.waiting.size < this.config.maxPending)) {
      this.openGauge.set(0);
    }
  }

  snapshot(): Record<string, unknown> {
    return { ...this.config, active: this.active, pending: this.pending, open: this.open, rejected: this.rejected };
  }
}

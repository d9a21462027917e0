/**
 * A retry budget (Linkerd's, Finagle's): retries may add at most `ratio` of the requests seen in
 * the last `windowMs`, plus `minPerSecond` retries every second whatever the traffic (so a quiet
 * service can still retry its rare failure). When an upstream fails everything, total load stays
 * under requests × (1 + ratio) + minPerSecond × seconds instead of multiplying by `attempts`:
 * retries stop feeding the storm that caused them.
 *
 * Counts live in one-second buckets over the window; a bucket is cleared lazily when the clock
 * comes back to it. Time is `Date.now()`, so fake clocks drive it in tests.
 */
export class RetryBudget {
  private readonly buckets: number;
  /** Which second each bucket currently counts (seconds since the epoch). */
  private readonly epochs: Float64Array;
  private readonly requests: Float64Array;
  private readonly retries: Float64Array;
  /** Retries taken from the per-second floor and from the ratio, for /clusters. */
  granted = 0;
  denied = 0;

  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
    windowMs = 10_000,
  ) {
    this.buckets = Math.max(1, Math.round(windowMs / 1000));
    this.epochs = new Float64Array(this.buckets).fill(-1);
    this.requests = new Float64Array(this.buckets);
    this.retries = new Float64Array(this.buckets);
  }

  /** An original request (not a retry) started. */
  recordRequest(now = Date.now()): void {
    this.requests[this.bucket(now)]!++;
  }

  /** Takes one retry from the budget when there is room; false means do not retry. */
  tryRetry(now = Date.now()): boolean {
    const current = this.bucket(now);
    const second = Math.floor(now / 1000);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < this.buckets; i++) {
      if (second - this.epochs[i]! >= this.buckets) continue; // a stale bucket: outside the window
      requests += this.requests[i]!;
      retries += this.retries[i]!;
    }
    const fromFloor = this.retries[current]! < this.minPerSecond;
    const fromRatio = retries + 1 <= this.ratio * requests;
    if (!fromFloor && !fromRatio) {
      this.denied++;
      return false;
    }
    this.retries[current]!++;
    this.granted++;
    return true;
  }

  private bucket(now: number): number {
    const second = Math.floor(now / 1000);
    const index = second % this.buckets;
    if (this.epochs[index] !== second) {
      this.epochs[index] = second;
      this.requests[index] = 0;
      this.retries[index] = 0;
    }
    return index;
  }

  snapshot(): Record<string, unknown> {
    return { ratio: this.ratio, minRetriesPerSecond: this.minPerSecond, granted: this.granted, denied: this.denied };
  }
}

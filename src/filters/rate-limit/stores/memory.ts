import { gcraStep, type RateDecision, type RatePolicy } from '../gcra.js';
import type { RateLimitStore } from './store.js';

/** After this many takes, buckets that are full again (and so carry no state) are dropped. */
const SWEEP_EVERY = 4096;

/**
 * Buckets in this process's memory: exact and synchronous, but each gateway process counts
 * alone. `now` is injectable so limits can be tested on a fake clock.
 */
export class MemoryStore implements RateLimitStore {
  private readonly tats = new Map<string, number>();
  private takesSinceSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  take(key: string, policy: RatePolicy): RateDecision {
    const now = this.now();
    if (++this.takesSinceSweep >= SWEEP_EVERY) this.sweep(now);
    const { decision, tat } = gcraStep(this.tats.get(key), now, policy);
    if (decision.allowed) this.tats.set(key, tat);
    return decision;
  }

  /** Number of clients with a partly spent bucket. */
  get size(): number {
    return this.tats.size;
  }

  private sweep(now: number): void {
    this.takesSinceSweep = 0;
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
  }

  async close(): Promise<void> {
    this.tats.clear();
  }
}

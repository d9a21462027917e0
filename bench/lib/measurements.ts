/**
 * The figures the scenarios take, as {@link Measurement}s (warm-up + one run) and their summaries
 * over runs: maximum throughput (wrk, closed loop) and latency at a constant rate (h2load, open loop).
 */
import type { StartedTarget } from '../peers/target.js';
import type { BenchContext, Measurement } from './context.js';
import { measureLatency, measureThroughput, type LatencyResult, type ThroughputResult } from './load.js';
import { median, summarize, type Summary } from './stats.js';

/** Maximum throughput over repeated runs. */
export interface Throughput {
  readonly rps: Summary;
  /** Medians of the runs' closed-loop latencies. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Failed requests over all runs (non-2xx or socket errors). */
  readonly errors: number;
  /** The part of `errors` that were non-2xx answers. */
  readonly non2xx: number;
}

/** `0`, or the failures with how many of them were error answers (the rest: socket errors, timeouts). */
export function formatFailures(throughput: Throughput): string {
  return throughput.errors === 0 ? '0' : `${throughput.errors} (${throughput.non2xx} non-2xx)`;
}

/** The connections of the throughput scenarios (issue 6, scenario 1). */
export const THROUGHPUT_CONNECTIONS = 50;

/** Maximum throughput with `wrk`: `connections` keep-alive connections, the target's headers on every request. */
export function throughputMeasurement(ctx: BenchContext, connections = THROUGHPUT_CONNECTIONS, headers?: Record<string, string>): Measurement<ThroughputResult> {
  const load = (started: StartedTarget, seconds: number): Promise<ThroughputResult> =>
    measureThroughput({ url: started.url, connections, seconds, headers: { ...started.headers, ...headers } });
  return {
    warmUp: async (started) => {
      if (ctx.settings.warmupSeconds > 0) await load(started, ctx.settings.warmupSeconds);
    },
    run: (started) => load(started, ctx.settings.seconds),
  };
}

/** Median of the runs with their spread. */
export function summarizeThroughput(runs: readonly ThroughputResult[]): Throughput {
  return {
    rps: summarize(runs.map((r) => r.requestsPerSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
  };
}

/** Latency at a constant rate over repeated runs. */
export interface ConstantRateLatency {
  readonly p50Ms: number;
  readonly p99Ms: Summary;
  /** Median over the runs of the requests answered per second. */
  readonly achievedRps: number;
  readonly errors: number;
}

/**
 * Latency at `rps` requests per second in total over `connections` connections. The warm-up runs
 * at the same rate; the first half second of each run (connection set-up) is left out of the figures.
 */
export function latencyMeasurement(ctx: BenchContext, rps: number, connections: number): Measurement<LatencyResult> {
  const load = (started: StartedTarget, dir: string, seconds: number, warmupSeconds: number): Promise<LatencyResult> =>
    measureLatency({ url: started.url, headers: started.headers, rps, connections, seconds, warmupSeconds, dir });
  return {
    warmUp: async (started, dir) => {
      if (ctx.settings.warmupSeconds > 0) await load(started, dir, ctx.settings.warmupSeconds, 0);
    },
    run: (started, dir) => load(started, dir, ctx.settings.seconds, 0.5),
  };
}

export function summarizeLatency(runs: readonly LatencyResult[]): ConstantRateLatency {
  return {
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: summarize(runs.map((r) => r.p99Ms)),
    achievedRps: median(runs.map((r) => r.achievedRps)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}

/** Whether a target kept up with its rate (below 90 % of it, it was saturated and its latency is queueing). */
export function saturated(result: ConstantRateLatency, rps: number): boolean {
  return result.achievedRps < 0.9 * rps;
}

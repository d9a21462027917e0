/**
 * The two load generators, both native and pinned to the load core:
 * - `wrk`, closed loop (each connection sends its next request when the answer arrives): the
 *   maximum throughput a proxy sustains;
 * - `h2load --rps`, open loop (requests leave at a constant rate, evenly spaced, whether or not
 *   earlier ones were answered): the latency a proxy adds at a given load. Its per-request log
 *   gives the percentiles.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { commandExists, LOAD_CORE, pinning } from './process.js';
import { percentileOfSorted } from './stats.js';

const run = promisify(execFile);

export const WRK = commandExists('wrk') ? 'wrk' : undefined;
export const H2LOAD = commandExists('h2load') ? 'h2load' : undefined;

function pinned(command: string, args: string[]): [string, string[]] {
  return pinning ? ['taskset', ['-c', String(LOAD_CORE), command, ...args]] : [command, args];
}

/**
 * `-H` arguments. Each tool replaces its own Host header only when told in its own spelling —
 * wrk matches `Host` case-sensitively, h2load wants `:authority` — otherwise the request carries
 * two Host headers and a strict proxy rightly answers 400.
 */
function headerArgs(headers: Record<string, string>, hostHeader = 'Host'): string[] {
  return Object.entries(headers).flatMap(([name, value]) => ['-H', `${name.toLowerCase() === 'host' ? hostHeader : name}: ${value}`]);
}

export interface ThroughputResult {
  readonly requestsPerSecond: number;
  /** Closed-loop latencies (ms): informative only, queueing inflates them by design. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-2xx answers plus socket errors: any of these makes the run invalid. */
  readonly errors: number;
  /** The part of `errors` that were answers (a proxy's own error responses), not socket errors. */
  readonly non2xx: number;
}

export interface ThroughputLoad {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly headers?: Record<string, string>;
}

/** Maximum throughput with `wrk` (one thread, keep-alive). */
export async function measureThroughput(load: ThroughputLoad): Promise<ThroughputResult> {
  const args = ['-t1', `-c${load.connections}`, `-d${load.seconds}s`, '--latency', ...headerArgs(load.headers ?? {}), load.url];
  const [file, argv] = pinned(WRK!, args);
  const { stdout } = await run(file, argv, { timeout: (load.seconds + 30) * 1000 });
  return parseWrk(stdout);
}

const WRK_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Reads `wrk --latency` output. Exported for its test. */
export function parseWrk(output: string): ThroughputResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (!rps) throw new Error(`unexpected wrk output:\n${output}`);
  const latency = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
    return m ? Number(m[1]) * WRK_UNITS[m[2]!]! : Number.NaN;
  };
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requestsPerSecond: Number(rps[1]),
    p50Ms: latency('50'),
    p99Ms: latency('99'),
    errors: Number(non2xx?.[1] ?? 0) + socketErrors,
    non2xx: Number(non2xx?.[1] ?? 0),
  };
}

export interface LatencyResult {
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests answered per second during the measured window (below the target = saturated). */
  readonly achievedRps: number;
  readonly requests: number;
  /** Requests that failed: non-2xx/3xx answers, connection errors, timeouts. */
  readonly errors: number;
}

export interface ConstantRateLoad {
  readonly url: string;
  /** Total requests per second, spread evenly over the connections and over time. */
  readonly rps: number;
  readonly connections: number;
  readonly seconds: number;
  /** Leading seconds of the run left out of the figures (connection set-up, warm caches). */
  readonly warmupSeconds: number;
  readonly headers?: Record<string, string>;
  /** Folder for h2load's per-request log (deleted after reading). */
  readonly dir: string;
}

/** h2load opens connections at most once per millisecond (`--rate-period` takes whole ms). */
const STAGGER_MAX_RPS = 1000;

/**
 * Latency at a constant request rate with `h2load --h1 --rps`: each connection sends at
 * rps/connections, and latency is measured from the moment a request is sent.
 *
 * Up to 1,000 req/s, arrivals are uniform, as in Istio's published latency runs (fortio with
 * `uniform: true`): the connections open one per 1/rps (`-r1 --rate-period`) and each one's send
 * timer starts when it connects, so requests leave one at a time instead of every connection firing
 * in the same instant. Without the stagger, 16 connections at 1,000 req/s are bursts of 16 requests
 * every 16 ms, and p99 measures how a proxy drains a queue of 16 rather than the latency it adds.
 * h2load's rate mode takes a request count (`-n`) instead of a duration, so the warm-up is the
 * leading part of the log, left out by start time. Above 1,000 req/s the stagger would be below
 * h2load's millisecond resolution (and its timers' too), and a fixed count would make a saturated
 * target's run last as long as it takes: such runs are timed (`-D`) instead.
 */
export async function measureLatency(load: ConstantRateLoad): Promise<LatencyResult> {
  const logFile = join(load.dir, `h2load-${process.hrtime.bigint()}.tsv`);
  const staggered = load.rps <= STAGGER_MAX_RPS;
  const perConnection = Math.max(1, Math.round((load.rps * (load.seconds + load.warmupSeconds)) / load.connections));
  const args = [
    '--h1',
    `-c${load.connections}`,
    `--rps=${(load.rps / load.connections).toFixed(3)}`,
    ...(staggered
      ? [`-n${perConnection * load.connections}`, '-r1', `--rate-period=${Math.round(1000 / load.rps)}ms`]
      : [`-D${Math.round((load.seconds + load.warmupSeconds) * 1000)}ms`]),
    `--log-file=${logFile}`,
    ...headerArgs(load.headers ?? {}, ':authority'),
    load.url,
  ];
  const [file, argv] = pinned(H2LOAD!, args);
  // A staggered run of a target that cannot keep up lasts longer than planned.
  const timeoutMs = ((load.seconds + load.warmupSeconds) * (staggered ? 10 : 1) + 30) * 1000;
  const { stdout } = await run(file, argv, { timeout: timeoutMs });
  try {
    return parseH2load(stdout, readFileSync(logFile, 'utf8'), load.warmupSeconds);
  } finally {
    rmSync(logFile, { force: true });
  }
}

/**
 * Reads h2load's summary and per-request log (`start µs since the epoch  status  duration µs`),
 * leaving out requests sent in the first `warmupSeconds`. The rate achieved is the measured
 * requests over the time their starts span: a target that cannot keep up delays the sends.
 * The summary's `failed` count (non-2xx/3xx answers, errors, timeouts) covers the whole run.
 * Exported for its test.
 */
export function parseH2load(summary: string, log: string, warmupSeconds: number): LatencyResult {
  const failed = /requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed/.exec(summary);
  if (!failed) throw new Error(`unexpected h2load output:\n${summary}`);
  const entries = log
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => line.split('\t'))
    .map(([start, , duration]) => ({ startUs: Number(start), ms: Number(duration) / 1000 }));
  const firstStart = entries.reduce((min, e) => Math.min(min, e.startUs), Infinity);
  const measured = entries.filter((e) => e.startUs >= firstStart + warmupSeconds * 1e6);
  if (measured.length < 2) throw new Error(`h2load logged ${measured.length} request(s) after the warm-up:\n${summary}`);
  const [from, to] = measured.reduce(([lo, hi], e) => [Math.min(lo, e.startUs), Math.max(hi, e.startUs)], [Infinity, -Infinity]);
  const spanSeconds = (to - from) / 1e6;
  const durations = Float64Array.from(measured, (e) => e.ms).sort();
  return {
    p50Ms: percentileOfSorted(durations, 50),
    p99Ms: percentileOfSorted(durations, 99),
    achievedRps: (measured.length - 1) / spanSeconds,
    requests: measured.length,
    errors: Number(failed[1]),
  };
}

/**
 * What every scenario shares within one bench run — the settings, the upstream, a temp folder, the
 * figures one scenario takes from another (scenario 3 runs at half of nginx's maximum from
 * scenario 1) — and how targets are started and measured side by side.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startUpstream, type Upstream } from '../peers/nginx.js';
import type { StartedTarget, Target } from '../peers/target.js';
import { summarizeThroughput, throughputMeasurement, type Throughput } from './measurements.js';
import { stopEverything, tempDir } from './process.js';
import type { BenchSettings } from './report.js';

export interface BenchContext {
  readonly settings: BenchSettings;
  readonly upstream: Upstream;
  /** Root temp folder; each started thing gets its own sub-folder. */
  readonly workDir: string;
  /** Maximum throughput by target name, as measured earlier in this run. */
  readonly maxThroughput: Map<string, Throughput>;
  /** Progress lines (stderr), so a long run shows where it is. */
  progress(message: string): void;
}

let folders = 0;

/**
 * A bench run's context: a temp folder and the upstream. `close` stops every process the run
 * started (even those a failed scenario left behind) and removes the folder, unless `keep` (its
 * generated configs and every process's output are then left for a post-mortem).
 */
export async function openBench(
  settings: BenchSettings,
  progress: (message: string) => void,
  keep = false,
): Promise<{ ctx: BenchContext; close(): Promise<void> }> {
  const workDir = tempDir('run');
  const close = async (): Promise<void> => {
    await stopEverything();
    if (keep) progress(`configs and process output kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const upstream = await startUpstream(folderFor(workDir, 'upstream'));
    return { ctx: { settings, upstream, workDir, maxThroughput: new Map(), progress }, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A fresh folder under the run's temp dir for one started thing. */
export function folderFor(workDir: string, name: string): string {
  const dir = join(workDir, `${++folders}-${name.replace(/[^A-Za-z0-9]+/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface TargetOutcome<T> {
  readonly target: Target;
  /** Set when it ran. */
  readonly result?: T;
  /** Why it did not run or failed (`skipped: …` a missing binary or feature, `failed: …` a wrong answer, a crash). */
  readonly problem?: string;
}

/** Thrown by a measurement when the build lacks what it measures: the target is reported skipped, not failed. */
export class MissingFeature extends Error {}

/** How a figure is taken from a started target: an unmeasured warm-up, then single measured runs. */
export interface Measurement<T> {
  warmUp(started: StartedTarget, dir: string): Promise<void>;
  run(started: StartedTarget, dir: string): Promise<T>;
}

/**
 * Measures every target `settings.runs` times, interleaved: all targets are started up front
 * (an idle proxy costs nothing on the proxy core) and warmed up, then measured round-robin —
 * run 1 of each, run 2 of each, … — so a disturbance on a shared machine spreads over every row
 * instead of sinking one, and the ratios of one run stay fair. A target that fails is dropped
 * from the rounds without stopping the others.
 */
export async function interleaved<T>(ctx: BenchContext, targets: readonly Target[], measurement: Measurement<T>): Promise<TargetOutcome<T[]>[]> {
  const problems = new Map<Target, string>();
  const live = new Map<Target, { started: StartedTarget; dir: string; runs: T[] }>();
  const drop = async (target: Target, error: unknown): Promise<void> => {
    const message = (error as Error).message;
    ctx.progress(`${target.name}: ${error instanceof MissingFeature ? 'skipped' : 'FAILED'} ${message}`);
    problems.set(target, `${error instanceof MissingFeature ? 'skipped' : 'failed'}: ${oneLine(message)}`);
    await live.get(target)?.started.stop();
    live.delete(target);
  };
  try {
    for (const target of targets) {
      const unavailable = target.unavailable();
      if (unavailable) {
        ctx.progress(`${target.name}: skipped (${unavailable})`);
        problems.set(target, `skipped: ${unavailable}`);
        continue;
      }
      ctx.progress(`${target.name}: starting and warming up`);
      const dir = folderFor(ctx.workDir, target.name);
      try {
        live.set(target, { started: await target.start(ctx.upstream.port, dir), dir, runs: [] });
        await measurement.warmUp(live.get(target)!.started, dir);
      } catch (error) {
        await drop(target, error);
      }
    }
    for (let round = 1; round <= ctx.settings.runs; round++) {
      ctx.progress(`round ${round}/${ctx.settings.runs} over ${live.size} target(s)`);
      for (const [target, { started, dir, runs }] of live) {
        try {
          runs.push(await measurement.run(started, dir));
        } catch (error) {
          await drop(target, error);
        }
      }
    }
    return targets.map((target) => ({ target, result: live.get(target)?.runs, problem: problems.get(target) }));
  } finally {
    await Promise.all([...live.values()].map(({ started }) => started.stop()));
  }
}

/** Starts `target`, runs `measure` against it, and always stops it. */
export async function withTarget<T>(ctx: BenchContext, target: Target, measure: (started: StartedTarget, dir: string) => Promise<T>): Promise<T> {
  const dir = folderFor(ctx.workDir, target.name);
  const started = await target.start(ctx.upstream.port, dir);
  try {
    return await measure(started, dir);
  } finally {
    await started.stop();
  }
}

/**
 * `target`'s maximum throughput in this run: the figure scenario 1 measured, or measured now
 * (when scenario 1 was not selected). Throws when the target cannot be measured.
 */
export async function maxThroughputOf(ctx: BenchContext, target: Target): Promise<Throughput> {
  const known = ctx.maxThroughput.get(target.name);
  if (known) return known;
  const [outcome] = await interleaved(ctx, [target], throughputMeasurement(ctx));
  if (!outcome?.result) throw new Error(`${target.name}: ${outcome?.problem}`);
  const measured = summarizeThroughput(outcome.result);
  ctx.maxThroughput.set(target.name, measured);
  return measured;
}

/** An error as one table cell: its first line and, when it carries a process's output, that output's last line. */
function oneLine(message: string): string {
  const lines = message.split('\n').filter((l) => l.trim().length > 0);
  const text = lines.length > 1 ? `${lines[0]} … ${lines.at(-1)}` : (lines[0] ?? 'unknown error');
  return text.slice(0, 300);
}

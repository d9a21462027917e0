/**
 * The bench harness at smoke-test size: one run of about a second per figure, so every scenario
 * is exercised end to end (real peers, real load generators) without the cost of a real bench.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { openBench, type BenchContext, type TargetOutcome } from '../../bench/lib/context.js';
import { H2LOAD, WRK } from '../../bench/lib/load.js';
import { NGINX } from '../../bench/peers/nginx.js';
import type { Target } from '../../bench/peers/target.js';

export const QUICK = { runs: 1, seconds: 1, warmupSeconds: 0, simulatedSidecars: 20 } as const;

/** Why the harness cannot run at all here (the upstream and the load generators are native tools). */
export function harnessUnavailable(): string | undefined {
  if (!NGINX) return 'nginx is not installed (Debian: nginx-light)';
  if (!WRK) return 'wrk is not installed (Debian: wrk)';
  if (!H2LOAD) return 'h2load is not installed (Debian: nghttp2-client)';
  return undefined;
}

/** Opens a quick bench for the test, or skips the test with the reason; closes it when the test ends. */
export async function quickBench(t: TestContext): Promise<BenchContext | undefined> {
  const missing = harnessUnavailable();
  if (missing) {
    t.skip(missing);
    return undefined;
  }
  const bench = await openBench(QUICK, (message) => t.diagnostic(message));
  t.after(() => bench.close());
  return bench.ctx;
}

/**
 * The outcomes of the targets that could run here, each asserted to have a result; the others
 * (a missing binary or feature) are noted on the test and left out.
 */
export function measuredOutcomes<T>(t: TestContext, outcomes: readonly TargetOutcome<T>[]): { target: Target; result: T }[] {
  const measured: { target: Target; result: T }[] = [];
  for (const { target, result, problem } of outcomes) {
    const unavailable = target.unavailable();
    if (unavailable) {
      t.diagnostic(`${target.name} not measured: ${unavailable}`);
      continue;
    }
    assert.ok(result, `${target.name}: ${problem}`);
    measured.push({ target, result });
  }
  return measured;
}

/**
 * Scenario 3: the latency each proxy adds at a constant request rate — half of nginx's maximum
 * from this run — measured open loop (h2load --rps), as p50/p99 minus those of direct.
 */
import { interleaved, maxThroughputOf, type BenchContext, type TargetOutcome } from '../lib/context.js';
import { latencyMeasurement, saturated, summarizeLatency, type ConstantRateLatency } from '../lib/measurements.js';
import { formatMs, formatRps, type Section } from '../lib/report.js';
import { caddy, direct, haproxy } from '../peers/native.js';
import { nginxGateway } from '../peers/nginx.js';
import { fastifyProxy, undiciProxy } from '../peers/node.js';
import type { Target } from '../peers/target.js';
import { sekisho } from './gateway-throughput.js';

const TARGETS: readonly Target[] = [direct, nginxGateway, haproxy, caddy, undiciProxy, fastifyProxy, sekisho];
const CONNECTIONS = 50;

export interface AddedLatencyData {
  readonly rps: number;
  readonly outcomes: readonly TargetOutcome<ConstantRateLatency>[];
}

export async function addedLatency(ctx: BenchContext): Promise<{ section: Section; data?: AddedLatencyData }> {
  const title = 'Scenario 3 — latency added at a constant rate (50 % of nginx’s maximum), open loop';
  const check = { goal: 'S3: p99 added ≤ 1 ms', measured: 'skipped', met: undefined };
  const nginxUnavailable = nginxGateway.unavailable();
  if (nginxUnavailable) return { section: { title, setup: '', table: [], notes: [], checks: [check], skipped: `the rate is derived from nginx: ${nginxUnavailable}` } };
  ctx.progress('nginx maximum throughput (sets the rate)…');
  const nginxMax = await maxThroughputOf(ctx, nginxGateway);
  const rps = Math.max(100, Math.round(nginxMax.rps.median / 2));
  const measured = await interleaved(ctx, TARGETS, latencyMeasurement(ctx, rps, CONNECTIONS));
  const outcomes = measured.map(({ target, result, problem }) => ({ target, result: result && summarizeLatency(result), problem }));
  const baseline = outcomes.find((o) => o.target === direct)?.result;
  const table = [['target', 'p50', 'p99', 'p50 added', 'p99 added', 'achieved req/s', 'failed requests']];
  for (const { target, result, problem } of outcomes) {
    if (!result) {
      table.push([target.name, problem!, '', '', '', '', '']);
      continue;
    }
    const isBaseline = target === direct;
    table.push([
      target.name,
      formatMs(result.p50Ms),
      `${formatMs(result.p99Ms.median)} (±${formatMs((result.p99Ms.max - result.p99Ms.min) / 2)})`,
      isBaseline || !baseline ? '' : formatMs(result.p50Ms - baseline.p50Ms),
      isBaseline || !baseline ? '' : formatMs(result.p99Ms.median - baseline.p99Ms.median),
      `${formatRps(result.achievedRps)}${saturated(result, rps) ? ' (saturated)' : ''}`,
      String(result.errors),
    ]);
  }
  const own = outcomes.find((o) => o.target === sekisho)?.result;
  const added = own && baseline && own.errors === 0 && !saturated(own, rps) ? own.p99Ms.median - baseline.p99Ms.median : undefined;
  return {
    data: { rps, outcomes },
    section: {
      title,
      setup: `\`h2load --h1 -c${CONNECTIONS} --rps\` at ${formatRps(rps)} req/s in total (half of nginx’s ${formatRps(nginxMax.rps.median)} req/s in this run), percentiles from h2load’s per-request log; all targets run side by side and are measured in turn, round after round. “Added” is the figure minus direct’s.`,
      table,
      notes: [
        'A proxy that cannot sustain the rate is marked saturated: its latency is then queueing, and its p99 is not an added latency.',
        'h2load times a request from when it is sent; with 50 connections each sends one every few ms, far more than the latencies measured, so queueing behind a slow answer stays rare.',
      ],
      checks: [{ ...check, measured: added === undefined ? (own ? 'not comparable (saturated or failed)' : 'not measured') : formatMs(added), met: added === undefined ? undefined : added <= 1 }],
    },
  };
}

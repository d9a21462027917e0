/**
 * Scenario 1: the gateway's maximum throughput, HTTP/1.1 keep-alive, 50 connections, routing and
 * prefix strip only — Sekisho beside nginx, HAProxy, Caddy and the Node.js proxies, and direct.
 */
import { interleaved, type BenchContext, type TargetOutcome } from '../lib/context.js';
import { formatFailures, summarizeThroughput, throughputMeasurement, type Throughput } from '../lib/measurements.js';
import { formatMs, formatRatio, formatRps, formatSummary, type Section } from '../lib/report.js';
import { caddy, direct, haproxy } from '../peers/native.js';
import { nginxGateway } from '../peers/nginx.js';
import { fastifyProxy, undiciProxy } from '../peers/node.js';
import { sekishoGateway } from '../peers/sekisho.js';
import type { Target } from '../peers/target.js';

export const sekisho = sekishoGateway({ name: 'Sekisho', logLevel: 'warn' });
const sekishoWithAccessLog = sekishoGateway({ name: 'Sekisho (access log on)', logLevel: 'info' });

/** Every gateway compared, in table order. */
export const GATEWAY_TARGETS: readonly Target[] = [direct, nginxGateway, haproxy, caddy, undiciProxy, fastifyProxy, sekisho, sekishoWithAccessLog];

/** Throughput of nginx and of the best Node.js peer in `outcomes`, the two references of every ratio. */
export function references(outcomes: readonly TargetOutcome<Throughput>[]): { nginx?: number; bestNode?: number; bestNodeName?: string } {
  const ok = outcomes.filter((o) => o.result && o.result.errors === 0);
  const nginx = ok.find((o) => o.target === nginxGateway)?.result?.rps.median;
  const node = ok.filter((o) => o.target.kind === 'node').sort((a, b) => b.result!.rps.median - a.result!.rps.median)[0];
  return { nginx, bestNode: node?.result?.rps.median, bestNodeName: node?.target.name };
}

export interface GatewayThroughputData {
  readonly outcomes: readonly TargetOutcome<Throughput>[];
}

export async function gatewayThroughput(ctx: BenchContext): Promise<{ section: Section; data: GatewayThroughputData }> {
  const measured = await interleaved(ctx, GATEWAY_TARGETS, throughputMeasurement(ctx));
  const outcomes = measured.map(({ target, result, problem }) => ({ target, result: result && summarizeThroughput(result), problem }));
  for (const { target, result } of outcomes) if (result) ctx.maxThroughput.set(target.name, result);
  const refs = references(outcomes);
  const table = [['target', 'req/s', '× nginx', '× best Node peer', 'p50 (closed loop)', 'p99 (closed loop)', 'failed requests']];
  for (const { target, result, problem } of outcomes) {
    if (!result) {
      table.push([target.name, problem!, '', '', '', '', '']);
      continue;
    }
    const rps = result.rps.median;
    const compared = target.kind !== 'direct' && result.errors === 0;
    table.push([
      target.name,
      formatSummary(result.rps),
      compared ? formatRatio(refs.nginx && rps / refs.nginx) : '',
      compared ? formatRatio(refs.bestNode && rps / refs.bestNode) : '',
      formatMs(result.p50Ms),
      formatMs(result.p99Ms),
      formatFailures(result),
    ]);
  }
  const own = outcomes.find((o) => o.target === sekisho)?.result;
  const ownRps = own && own.errors === 0 ? own.rps.median : undefined;
  const vsNode = ownRps !== undefined && refs.bestNode ? ownRps / refs.bestNode : undefined;
  const vsNginx = ownRps !== undefined && refs.nginx ? ownRps / refs.nginx : undefined;
  return {
    data: { outcomes },
    section: {
      title: 'Scenario 1 — gateway, HTTP/1.1 keep-alive, routing + prefix strip: maximum throughput',
      setup: '`wrk -t1 -c50` (closed loop) against `GET /api/bench`, which each proxy routes to the upstream as `/bench`; all targets run side by side and are measured in turn, round after round. Sekisho runs with `SEKISHO_LOG_LEVEL=warn` (no access log) except in the row that says otherwise.',
      table,
      notes: [
        `Best Node.js peer in this run: ${refs.bestNodeName ?? 'none measured'}${refs.bestNode ? ` (${formatRps(refs.bestNode)} req/s)` : ''}.`,
        'Closed-loop latencies include queueing at 50 connections; scenario 3 measures the latency a proxy adds.',
        'A row with failed requests gets no ratio: its throughput counts answers that were errors.',
      ],
      checks: [
        { goal: 'S1: ≥ 1.2× the fastest Node.js peer', measured: formatRatio(vsNode), met: vsNode === undefined ? undefined : vsNode >= 1.2 },
        { goal: 'S1: ≥ 0.6× nginx', measured: formatRatio(vsNginx), met: vsNginx === undefined ? undefined : vsNginx >= 0.6 },
      ],
    },
  };
}

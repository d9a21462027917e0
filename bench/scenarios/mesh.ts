/**
 * Scenario 4: the mesh hop client → sidecar → mTLS → sidecar → app, Sekisho's pair against a pair
 * of nginx doing the same mTLS hop and against direct: p50/p99 added at 1,000 req/s over 16
 * connections with 1 KiB answers (the setup of Istio's published figures), and maximum throughput.
 */
import { join } from 'node:path';
import { OPENSSL, writeMeshPki } from '../lib/certs.js';
import { interleaved, type BenchContext, type Measurement, type TargetOutcome } from '../lib/context.js';
import type { LatencyResult, ThroughputResult } from '../lib/load.js';
import {
  formatFailures,
  latencyMeasurement,
  saturated,
  summarizeLatency,
  summarizeThroughput,
  THROUGHPUT_CONNECTIONS,
  throughputMeasurement,
  type ConstantRateLatency,
  type Throughput,
} from '../lib/measurements.js';
import { LOAD_CORE } from '../lib/process.js';
import { formatMs, formatRatio, formatRps, formatSummary, type Section } from '../lib/report.js';
import { direct } from '../peers/native.js';
import { NGINX, startNginxMeshPair } from '../peers/nginx.js';
import { MESH_NAME, meshUnavailable, startSekishoMesh } from '../peers/sekisho-mesh.js';
import type { Target } from '../peers/target.js';

export const MESH_RPS = 1000;
export const MESH_CONNECTIONS = 16;

const nginxPair: Target = {
  name: 'nginx pair (mTLS)',
  kind: 'native',
  unavailable: () => {
    if (!NGINX) return 'nginx is not installed (Debian: nginx-light)';
    return OPENSSL ? undefined : 'openssl is not installed (Debian: openssl); it makes the pair’s certificates';
  },
  async start(upstreamPort, dir) {
    const tls = await writeMeshPki(dir, MESH_NAME);
    return startNginxMeshPair(upstreamPort, { outbound: join(dir, 'outbound'), inbound: join(dir, 'inbound') }, tls);
  },
};

export const sekishoPair: Target = {
  name: 'Sekisho sidecars (mTLS)',
  kind: 'sekisho',
  unavailable: meshUnavailable,
  start: (upstreamPort, dir) => startSekishoMesh(upstreamPort, dir, LOAD_CORE),
};

interface MeshFigures {
  readonly latency: ConstantRateLatency;
  readonly throughput: Throughput;
}

/** Both figures of a path in one run: latency at 1,000 req/s, then maximum throughput. */
function meshMeasurement(ctx: BenchContext): Measurement<{ latency: LatencyResult; throughput: ThroughputResult }> {
  const latency = latencyMeasurement(ctx, MESH_RPS, MESH_CONNECTIONS);
  const throughput = throughputMeasurement(ctx, THROUGHPUT_CONNECTIONS);
  return {
    warmUp: async (started, dir) => {
      await latency.warmUp(started, dir);
      await throughput.warmUp(started, dir);
    },
    run: async (started, dir) => ({ latency: await latency.run(started, dir), throughput: await throughput.run(started, dir) }),
  };
}

export interface MeshData {
  readonly outcomes: readonly TargetOutcome<MeshFigures>[];
}

export async function meshHop(ctx: BenchContext): Promise<{ section: Section; data: MeshData }> {
  const measured = await interleaved(ctx, [direct, nginxPair, sekishoPair], meshMeasurement(ctx));
  const outcomes = measured.map(({ target, result, problem }) => ({
    target,
    result: result && { latency: summarizeLatency(result.map((r) => r.latency)), throughput: summarizeThroughput(result.map((r) => r.throughput)) },
    problem,
  }));
  const resultOf = (t: Target): MeshFigures | undefined => outcomes.find((o) => o.target === t)?.result;
  const [baseline, nginx, own] = [resultOf(direct), resultOf(nginxPair), resultOf(sekishoPair)];
  const addedP99 = (r: MeshFigures | undefined): number | undefined =>
    r && baseline && r.latency.errors === 0 && !saturated(r.latency, MESH_RPS) ? r.latency.p99Ms.median - baseline.latency.p99Ms.median : undefined;

  const table = [['path', 'p50', 'p99', 'p50 added', 'p99 added', 'max req/s', '× nginx pair', 'failed at 1,000 req/s / at max']];
  for (const { target, result, problem } of outcomes) {
    if (!result) {
      table.push([target.name, problem!, '', '', '', '', '', '']);
      continue;
    }
    const { latency, throughput } = result;
    const isBaseline = target === direct;
    table.push([
      target.name,
      formatMs(latency.p50Ms),
      `${formatMs(latency.p99Ms.median)}${saturated(latency, MESH_RPS) ? ' (saturated)' : ''}`,
      isBaseline || !baseline ? '' : formatMs(latency.p50Ms - baseline.latency.p50Ms),
      isBaseline || !baseline ? '' : formatMs(latency.p99Ms.median - baseline.latency.p99Ms.median),
      formatSummary(throughput.rps),
      isBaseline || !nginx || throughput.errors > 0 ? '' : formatRatio(throughput.rps.median / nginx.throughput.rps.median),
      `${latency.errors} / ${formatFailures(throughput)}`,
    ]);
  }
  const ownAdded = addedP99(own);
  const nginxAdded = addedP99(nginx);
  /** Noise can put nginx's added p99 at or below zero; 2× a 50 µs floor is the tightest fair bound. */
  const allowed = nginxAdded === undefined ? undefined : 2 * Math.max(nginxAdded, 0.05);
  return {
    data: { outcomes },
    section: {
      title: 'Scenario 4 — mesh: client → sidecar → mTLS → sidecar → app',
      setup: `Latency: \`h2load --h1 -c${MESH_CONNECTIONS} --rps\` at ${formatRps(MESH_RPS)} req/s in total with uniform arrivals (the connections start 1 ms apart, so requests leave one by one, as in Istio’s published runs: fortio with \`uniform: true\`), 1 KiB answers, open loop. Throughput: \`wrk -t1 -c${THROUGHPUT_CONNECTIONS}\`. The three paths run side by side and are measured in turn, round after round. Both sidecars of a pair run on the proxy core; the client sends \`Host: app\` to its sidecar. The nginx pair uses ECDSA P-256 certificates with SPIFFE IDs, TLS 1.3, upstream keep-alive and session reuse.`,
      table,
      notes: [
        '“Added” is the figure minus direct’s: the cost of both sidecars and the mTLS hop together.',
        'A row with failed requests gets no ratio: its throughput counts answers that were errors.',
      ],
      checks: [
        { goal: 'S4: p99 added by the two sidecars ≤ 1 ms at 1,000 req/s', measured: ownAdded === undefined ? 'not measured' : formatMs(ownAdded), met: ownAdded === undefined ? undefined : ownAdded <= 1 },
        {
          goal: 'S4: p99 added within 2× of the nginx pair’s',
          measured: ownAdded === undefined || nginxAdded === undefined ? 'not measured' : `${formatMs(ownAdded)} vs nginx ${formatMs(nginxAdded)}`,
          met: ownAdded === undefined || allowed === undefined ? undefined : ownAdded <= allowed,
        },
      ],
    },
  };
}

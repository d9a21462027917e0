/**
 * Scenario 5a: what a sidecar costs in memory — resident set size of both sidecars of the mesh
 * pair when idle and at 1,000 req/s (16 connections, 1 KiB answers).
 */
import { join } from 'node:path';
import { folderFor, type BenchContext } from '../lib/context.js';
import { measureLatency } from '../lib/load.js';
import { LOAD_CORE, PROXY_CORE, privateBytes, residentBytes, start } from '../lib/process.js';
import { formatMs, formatRps, type Section } from '../lib/report.js';
import { startSekishoMesh, meshUnavailable, type Sidecar } from '../peers/sekisho-mesh.js';
import { MESH_CONNECTIONS, MESH_RPS } from './mesh.js';

const MB = 1024 * 1024;
const SAMPLE_MS = 200;
/** How long the idle mesh is left alone before its idle size is read (timers, first GCs settle). */
const IDLE_SETTLE_MS = 2_000;

export interface SidecarMemory {
  readonly idleBytes: number;
  /** Highest RSS seen while the load ran. */
  readonly peakBytes: number;
  /** The same two, counting only pages no other process shares. */
  readonly idlePrivateBytes: number;
  readonly peakPrivateBytes: number;
}

export interface SidecarMemoryData {
  /** An idle `node` that runs nothing, on the same binary: the floor any Node.js sidecar starts from. */
  readonly bareNode?: { readonly rssBytes: number; readonly privateBytes: number };
  readonly app?: SidecarMemory;
  readonly client?: SidecarMemory;
  readonly loadErrors?: number;
}

const TITLE = 'Scenario 5a — sidecar memory (RSS), idle and at 1,000 req/s';
const GOAL = 'S5: sidecar RSS ≤ 60 MB at 1,000 req/s';

export async function sidecarMemory(ctx: BenchContext): Promise<{ section: Section; data: SidecarMemoryData }> {
  const unavailable = meshUnavailable();
  if (unavailable) return { data: {}, section: { title: TITLE, setup: '', table: [], notes: [], checks: [{ goal: GOAL, measured: 'skipped', met: undefined }], skipped: unavailable } };
  const dir = folderFor(ctx.workDir, 'sidecar-memory');
  const bareNode = await bareNodeMemory(dir);
  const mesh = await startSekishoMesh(ctx.upstream.port, dir, LOAD_CORE);
  try {
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    const sidecars: [string, Sidecar][] = [['app', mesh.appSidecar], ['client', mesh.clientSidecar]];
    const idle = sidecars.map(([, s]) => residentBytes(s.proc.pid));
    const idlePrivate = sidecars.map(([, s]) => privateBytes(s.proc.pid));
    const peak = [...idle];
    const peakPrivate = [...idlePrivate];
    const sample = (): void =>
      sidecars.forEach(([, s], i) => {
        peak[i] = Math.max(peak[i]!, residentBytes(s.proc.pid));
        peakPrivate[i] = Math.max(peakPrivate[i]!, privateBytes(s.proc.pid));
      });
    const sampler = setInterval(sample, SAMPLE_MS);
    const load = await measureLatency({
      url: mesh.url,
      headers: mesh.headers,
      rps: MESH_RPS,
      connections: MESH_CONNECTIONS,
      seconds: Math.max(ctx.settings.seconds * ctx.settings.runs, 1),
      warmupSeconds: 0,
      dir,
    }).finally(() => clearInterval(sampler));
    const [app, client] = sidecars.map((_, i) => ({ idleBytes: idle[i]!, peakBytes: peak[i]!, idlePrivateBytes: idlePrivate[i]!, peakPrivateBytes: peakPrivate[i]! }));
    const worst = Math.max(app!.peakBytes, client!.peakBytes);
    return {
      data: { bareNode, app, client, loadErrors: load.errors },
      section: {
        title: TITLE,
        setup: `Both sidecars of scenario 4’s Sekisho pair: RSS from /proc after ${IDLE_SETTLE_MS / 1000} s idle, then the highest value sampled every ${SAMPLE_MS} ms during ${formatRps(MESH_RPS)} req/s over ${MESH_CONNECTIONS} connections (p50 ${formatMs(load.p50Ms)}, p99 ${formatMs(load.p99Ms)}, ${load.errors} failed).`,
        table: [
          ['sidecar', 'RSS idle', 'RSS at 1,000 req/s (peak)', 'private idle', 'private at 1,000 req/s (peak)'],
          ...sidecars.map(([name], i) => [
            `${name} (${i === 0 ? 'inbound side' : 'outbound side'})`,
            `${(idle[i]! / MB).toFixed(1)} MB`,
            `${(peak[i]! / MB).toFixed(1)} MB`,
            `${(idlePrivate[i]! / MB).toFixed(1)} MB`,
            `${(peakPrivate[i]! / MB).toFixed(1)} MB`,
          ]),
          ['bare `node` (runs nothing; for reference)', `${(bareNode.rssBytes / MB).toFixed(1)} MB`, '', `${(bareNode.privateBytes / MB).toFixed(1)} MB`, ''],
        ],
        notes: [
          '“Private” counts the pages only that sidecar holds (private clean + dirty in /proc/PID/smaps_rollup): what one more sidecar adds to a host. The rest of the RSS is shared read-only pages, mostly of the `node` binary that every Node.js process on the host maps; the target is checked on RSS.',
          'The bare `node` row is an idle Node.js process of the same binary that loads no code: the floor of any Node.js sidecar on this host.',
        ],
        checks: [{ goal: GOAL, measured: `${(worst / MB).toFixed(1)} MB`, met: load.errors === 0 ? worst <= 60 * MB : undefined }],
      },
    };
  } finally {
    await mesh.stop();
  }
}

/** RSS and private memory of an idle `node` process that runs nothing, after the same settling time. */
async function bareNodeMemory(dir: string): Promise<{ rssBytes: number; privateBytes: number }> {
  const bare = start({ name: 'bare node', core: PROXY_CORE, command: process.execPath, args: ['-e', 'setInterval(() => {}, 60_000)'], logFile: join(dir, 'bare-node.log') });
  try {
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    if (!bare.alive) throw new Error(`bare node exited:\n${bare.tail}`);
    return { rssBytes: residentBytes(bare.pid), privateBytes: privateBytes(bare.pid) };
  } finally {
    await bare.stop();
  }
}

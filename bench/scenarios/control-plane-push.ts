/**
 * Scenario 5b: control-plane push — how long a traffic-split change takes until every one of
 * 500 connected sidecars has acknowledged it, as the control plane itself reports
 * (`GET /api/proxies`). The sidecars are simulated: the real mesh client, 500 times in one
 * process (bench/peers/simulated-sidecars.mjs), without the proxying part.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { folderFor, type BenchContext } from '../lib/context.js';
import { CLI, LOAD_CORE, PROXY_CORE, start, type Running } from '../lib/process.js';
import { formatMs, type Section } from '../lib/report.js';
import { summarize, type Summary } from '../lib/stats.js';
import { meshUnavailable, proxiesOf, putSplit, startControlPlane, type ControlPlane } from '../peers/sekisho-mesh.js';

const SERVICE = 'sim';
/** The built mesh client, beside the CLI measured. */
const MESH_DIST = join(dirname(CLI), '../mesh');
const SIMULATOR = join(import.meta.dirname, '../peers/simulated-sidecars.mjs');
const POLL_MS = 20;
const CONNECT_DEADLINE_MS = 120_000;
const ACK_DEADLINE_MS = 30_000;

export interface PushData {
  readonly sidecars: number;
  /** Time from the split's PUT to the last acknowledgement, per run (ms). */
  readonly ackMs?: Summary;
  /** Time for all simulated sidecars to join and acknowledge their first config (ms). */
  readonly connectMs?: number;
}

const TITLE = 'Scenario 5b — control-plane push: a split change acknowledged by every sidecar';

export async function controlPlanePush(ctx: BenchContext): Promise<{ section: Section; data: PushData }> {
  const sidecars = ctx.settings.simulatedSidecars;
  const goal = `S5: ${sidecars} sidecars acknowledge a change within 2 s`;
  const unavailable = meshUnavailable() ?? (existsSync(join(MESH_DIST, 'client.js')) ? undefined : `${MESH_DIST}/client.js (the mesh client the simulated sidecars run) is missing`);
  if (unavailable) return { data: { sidecars }, section: { title: TITLE, setup: '', table: [], notes: [], checks: [{ goal, measured: 'skipped', met: undefined }], skipped: unavailable } };

  const dir = folderFor(ctx.workDir, 'control-plane-push');
  // Here the control plane is what is measured: it gets the proxy core, the simulator the other.
  const cp = await startControlPlane(join(dir, 'control-plane'), PROXY_CORE, [SERVICE]);
  let simulator: Running | undefined;
  try {
    const connecting = Date.now();
    simulator = start({
      name: 'simulated sidecars',
      core: LOAD_CORE,
      command: process.execPath,
      args: [SIMULATOR],
      env: { COUNT: String(sidecars), SERVICE, CONTROL_PLANE: cp.xdsUrl, TOKEN: cp.joinToken, CA_FILE: cp.caFile, STATE_ROOT: join(dir, 'state'), MESH_DIST },
      cwd: dir,
      logFile: join(dir, 'simulator.log'),
    });
    await allAcknowledged(cp, sidecars, undefined, CONNECT_DEADLINE_MS, simulator);
    const connectMs = Date.now() - connecting;
    ctx.progress(`${sidecars} simulated sidecars connected in ${connectMs} ms`);

    const times: number[] = [];
    for (let run = 0; run < ctx.settings.runs; run++) {
      const canary = 5 + run;
      const before = performance.now();
      const version = await putSplit(cp, SERVICE, { v1: 100 - canary, v2: canary });
      await allAcknowledged(cp, sidecars, version, ACK_DEADLINE_MS, simulator);
      times.push(performance.now() - before);
    }
    const ackMs = summarize(times);
    return {
      data: { sidecars, ackMs, connectMs },
      section: {
        title: TITLE,
        setup: `\`PUT /api/services/${SERVICE}/split\` on the control plane (proxy core), then \`GET /api/proxies\` every ${POLL_MS} ms until all ${sidecars} simulated sidecars (the package’s own mesh client, on the load core) report the new version acknowledged; ${ctx.settings.runs} changes.`,
        table: [
          ['sidecars', 'all acknowledged after (median)', 'fastest', 'slowest', 'initial join of all'],
          [String(sidecars), formatMs(ackMs.median), formatMs(ackMs.min), formatMs(ackMs.max), formatMs(connectMs)],
        ],
        notes: [`Resolution is the ${POLL_MS} ms poll interval.`],
        checks: [{ goal, measured: formatMs(ackMs.median), met: ackMs.median <= 2_000 }],
      },
    };
  } finally {
    await simulator?.stop();
    await cp.proc.stop();
  }
}

/** Resolves once `count` proxies acknowledged `version` (or, when undefined, the control plane's current one). */
async function allAcknowledged(cp: ControlPlane, count: number, version: number | undefined, ms: number, simulator: Running): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const view = await proxiesOf(cp);
    const wanted = version ?? view.version;
    const acked = view.proxies.filter((p) => p.ackedVersion >= wanted).length;
    if (acked >= count) return;
    if (!simulator.alive) throw new Error(`the simulated sidecars exited:\n${simulator.tail}`);
    if (Date.now() > deadline) {
      throw new Error(`${acked}/${count} sidecars acknowledged (${view.proxies.length} connected) after ${ms} ms:\n${simulator.tail}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

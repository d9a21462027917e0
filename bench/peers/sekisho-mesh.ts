/**
 * Sekisho's mesh as a benchmark target, started with SPEC §2's command lines: a control plane,
 * then `sekisho sidecar` beside the app (inbound) and beside the client (outbound). The client
 * sends plain HTTP with `Host: app` to its sidecar, which opens mTLS to the app's sidecar.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { CLI, freePort, PROXY_CORE, start, waitForAnswer, type Running } from '../lib/process.js';
import { BODY_BYTES, UPSTREAM_PATH, type StartedTarget } from './target.js';

export const MESH_NAME = 'bench';
const JOIN_TOKEN = 'bench-join-token';
/** The mesh service the app runs as; the client's sidecar is `client`. */
export const APP_SERVICE = 'app';

/**
 * Why the mesh cannot be benchmarked with this build, or undefined: `sekisho --help` must list
 * both commands (the mesh lands in the CLI after the gateway).
 */
export function meshUnavailable(): string | undefined {
  if (!existsSync(CLI)) return `${CLI} is missing: run \`npm run build\` first`;
  const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  if (help.status !== 0) return `\`sekisho --help\` failed (exit ${help.status}): ${help.stderr.trim().split('\n')[0]}`;
  const missing = ['control-plane', 'sidecar'].filter((command) => !new RegExp(`^\\s+${command}\\b`, 'm').test(help.stdout));
  return missing.length ? `this build has no ${missing.map((c) => `\`sekisho ${c}\``).join(' or ')} yet (not listed by \`sekisho --help\`)` : undefined;
}

export interface ControlPlane {
  readonly proc: Running;
  /** The push channel (`--control-plane` of sidecars). */
  readonly xdsUrl: string;
  /** The admin API (`/api/...`). */
  readonly adminUrl: string;
  /** The mesh CA the control plane wrote (`--ca-out`), which sidecars verify it with (`--ca`). */
  readonly caFile: string;
  readonly joinToken: string;
}

/** `sekisho control-plane -c FILE --ca-out FILE` with a memory store; resolves once its admin API is ready and the CA is written. */
export async function startControlPlane(dir: string, core: number, services: readonly string[]): Promise<ControlPlane> {
  mkdirSync(dir, { recursive: true });
  const listen = await freePort();
  const xds = await freePort();
  const file = join(dir, 'control-plane.yaml');
  writeFileSync(
    file,
    `mesh: { name: ${MESH_NAME} }
controlPlane:
  listen: 127.0.0.1:${listen}
  xds: 127.0.0.1:${xds}
  store: memory
  joinToken: ${JOIN_TOKEN}
services:
${services.map((s) => `  ${s}: {}\n`).join('')}`,
  );
  const caFile = join(dir, 'mesh-ca.pem');
  const proc = start({
    name: 'sekisho control-plane',
    core,
    command: process.execPath,
    args: [CLI, 'control-plane', '-c', file, '--ca-out', caFile],
    env: { SEKISHO_LOG_LEVEL: 'warn' },
    cwd: dir,
    logFile: join(dir, 'control-plane.log'),
  });
  const adminUrl = `http://127.0.0.1:${listen}`;
  await waitForAnswer(proc, `${adminUrl}/ready`);
  await waitFor(proc, () => existsSync(caFile), `the mesh CA at ${caFile}`);
  return { proc, xdsUrl: `https://127.0.0.1:${xds}`, adminUrl, caFile, joinToken: JOIN_TOKEN };
}

export interface Sidecar {
  readonly proc: Running;
  readonly outboundPort: number;
  readonly inboundPort: number;
  readonly adminPort: number;
}

/** `sekisho sidecar --service S --app-port P --control-plane URL --token T --ca FILE --inbound --outbound --admin`, pinned to the proxy core. */
export async function startSidecar(cp: ControlPlane, service: string, appPort: number, dir: string): Promise<Sidecar> {
  mkdirSync(dir, { recursive: true });
  const [inboundPort, outboundPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const proc = start({
    name: `sekisho sidecar ${service}`,
    core: PROXY_CORE,
    command: process.execPath,
    args: [
      CLI, 'sidecar',
      '--service', service,
      '--app-port', String(appPort),
      '--control-plane', cp.xdsUrl,
      '--token', cp.joinToken,
      '--ca', cp.caFile,
      '--inbound', String(inboundPort),
      '--outbound', String(outboundPort),
      '--admin', String(adminPort),
    ],
    env: { SEKISHO_LOG_LEVEL: process.env['BENCH_SIDECAR_LOG_LEVEL'] ?? 'warn' },
    cwd: dir,
    logFile: join(dir, 'sidecar.log'),
  });
  await waitForAnswer(proc, `http://127.0.0.1:${adminPort}/ready`);
  return { proc, outboundPort, inboundPort, adminPort };
}

export interface SekishoMesh extends StartedTarget {
  readonly controlPlane: ControlPlane;
  readonly appSidecar: Sidecar;
  readonly clientSidecar: Sidecar;
}

/**
 * Control plane (on `controlPlaneCore`, off the data path by default), the app's sidecar in front
 * of `appPort`, and the client's sidecar; resolves once a request through both answers 1 KiB.
 */
export async function startSekishoMesh(appPort: number, dir: string, controlPlaneCore: number): Promise<SekishoMesh> {
  const controlPlane = await startControlPlane(join(dir, 'control-plane'), controlPlaneCore, [APP_SERVICE, 'client']);
  const started: Running[] = [controlPlane.proc];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((p) => p.stop()));
  };
  try {
    const appSidecar = await startSidecar(controlPlane, APP_SERVICE, appPort, join(dir, 'app-sidecar'));
    started.push(appSidecar.proc);
    // The client has no app of its own; its app port only has to be a valid port.
    const clientSidecar = await startSidecar(controlPlane, 'client', await freePort(), join(dir, 'client-sidecar'));
    started.push(clientSidecar.proc);
    const url = `http://127.0.0.1:${clientSidecar.outboundPort}${UPSTREAM_PATH}`;
    const headers = { host: APP_SERVICE };
    await waitForAnswer(clientSidecar.proc, url, { status: 200, bodyBytes: BODY_BYTES, headers }, 30_000);
    return { url, headers, proc: clientSidecar.proc, controlPlane, appSidecar, clientSidecar, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitFor(proc: Running, check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (!proc.alive) throw new Error(`${proc.name} exited before ${what} appeared:\n${proc.tail}`);
    if (Date.now() > deadline) throw new Error(`${what} did not appear within ${ms} ms:\n${proc.tail}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The control plane's view of connected proxies (`GET /api/proxies`). */
export async function proxiesOf(cp: ControlPlane): Promise<{ version: number; proxies: { id: string; ackedVersion: number }[] }> {
  const res = await request(`${cp.adminUrl}/api/proxies`);
  if (res.statusCode !== 200) throw new Error(`GET /api/proxies: ${res.statusCode} ${await res.body.text()}`);
  return (await res.body.json()) as { version: number; proxies: { id: string; ackedVersion: number }[] };
}

/** `PUT /api/services/NAME/split`; resolves to the config version that carries it. */
export async function putSplit(cp: ControlPlane, service: string, split: Record<string, number>): Promise<number> {
  const res = await request(`${cp.adminUrl}/api/services/${service}/split`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(split),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`PUT split: ${res.statusCode} ${text}`);
  return (JSON.parse(text) as { version: number }).version;
}

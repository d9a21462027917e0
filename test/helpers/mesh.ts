import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../../src/mesh/ports.js';
import { client, eventually, send } from './http.js';
import { CLI, ROOT, startProcess, tempDir, type Proc, type Upstream } from './processes.js';

export const JOIN_TOKEN = 'test-join-token';

/** A mesh config with a control plane on free ports; `body` adds mesh/services/gateway sections. */
export function meshYaml(body: string, controlPlane = ''): string {
  return `controlPlane:\n  listen: 127.0.0.1:0\n  xds: 127.0.0.1:0\n  joinToken: ${JOIN_TOKEN}\n${controlPlane}\n${body}`;
}

export interface ControlPlaneProc {
  readonly proc: Proc;
  readonly dir: string;
  readonly configFile: string;
  readonly caFile: string;
  /** `https://127.0.0.1:PORT`, what proxies get as --control-plane. */
  readonly xdsUrl: string;
  /** `http://127.0.0.1:PORT`, the admin API. */
  readonly adminUrl: string;
  /** Arguments that start it again on the same ports, folder and store. */
  readonly restartArgs: string[];
}

/**
 * Runs `sekisho control-plane` on `yaml` (written to a fresh folder, or `reuse.dir`) through the
 * built CLI. Its ports are fixed up front (`--listen`/`--xds`) so a restart finds them again.
 */
export async function startControlPlane(yaml: string, options: { store?: string; dir?: string } = {}): Promise<ControlPlaneProc> {
  const dir = options.dir ?? tempDir();
  const configFile = join(dir, 'sekisho.yaml');
  writeFileSync(configFile, yaml);
  const caFile = join(dir, 'ca.pem');
  const [listenPort, xdsPort] = await freePorts(2);
  const listen = `127.0.0.1:${listenPort}`;
  const xds = `127.0.0.1:${xdsPort}`;
  const args = [CLI, 'control-plane', '-c', configFile, '--ca-out', caFile, '--listen', listen, '--xds', xds];
  if (options.store !== undefined) args.push('--store', options.store);
  const proc = startProcess(args);
  await proc.waitForLine((l) => l.includes('"control plane ready"'), 20_000);
  return { proc, dir, configFile, caFile, xdsUrl: `https://${xds}`, adminUrl: `http://${listen}`, restartArgs: args };
}

export async function restartControlPlane(cp: ControlPlaneProc): Promise<ControlPlaneProc> {
  const proc = startProcess(cp.restartArgs);
  await proc.waitForLine((l) => l.includes('"control plane ready"'), 20_000);
  return { ...cp, proc };
}

export interface SidecarProc {
  readonly proc: Proc;
  readonly service: string;
  readonly outboundUrl: string;
  readonly adminUrl: string;
  readonly inboundPort: number;
  readonly stateDir: string;
  readonly args: string[];
}

export interface SidecarSpec {
  readonly service: string;
  readonly version?: string;
  readonly appPort: number;
  /** Reuse a state folder and ports (a restart). */
  readonly stateDir?: string;
  readonly ports?: { inbound: number; outbound: number; admin: number };
  /** Wait for "sidecar ready" (default true). */
  readonly waitReady?: boolean;
}

export async function startSidecar(cp: ControlPlaneProc, spec: SidecarSpec): Promise<SidecarProc> {
  const ports = spec.ports ?? (await threeFreePorts());
  const stateDir = spec.stateDir ?? join(tempDir(), 'state');
  const args = [
    CLI, 'sidecar', '--service', spec.service, '--version', spec.version ?? 'v1', '--app-port', String(spec.appPort),
    '--inbound', String(ports.inbound), '--outbound', String(ports.outbound), '--admin', String(ports.admin),
    '--control-plane', cp.xdsUrl, '--token', JOIN_TOKEN, '--ca', cp.caFile, '--state-dir', stateDir,
  ];
  const proc = startProcess(args);
  if (spec.waitReady !== false) await proc.waitForLine((l) => l.includes('"sidecar ready"'), 20_000);
  return {
    proc,
    service: spec.service,
    outboundUrl: `http://127.0.0.1:${ports.outbound}`,
    adminUrl: `http://127.0.0.1:${ports.admin}`,
    inboundPort: ports.inbound,
    stateDir,
    args,
  };
}

async function threeFreePorts(): Promise<{ inbound: number; outbound: number; admin: number }> {
  const [inbound, outbound, admin] = (await freePorts(3)) as [number, number, number];
  return { inbound, outbound, admin };
}

/** Restarts a sidecar on the same ports and state folder. */
export async function restartSidecar(sidecar: SidecarProc): Promise<SidecarProc> {
  const proc = startProcess(sidecar.args);
  await proc.waitForLine((l) => l.includes('"sidecar ready"'), 20_000);
  return { ...sidecar, proc };
}

/** An app (the fixture upstream) with its sidecar; the app's SEKISHO_PROXY is the sidecar's outbound listener. */
export async function startInstance(cp: ControlPlaneProc, service: string, version = 'v1'): Promise<{ app: Upstream; sidecar: SidecarProc }> {
  const [inbound, outbound, admin] = (await freePorts(3)) as [number, number, number];
  const app = await startUpstreamWithProxy(`${service}-${version}`, `http://127.0.0.1:${outbound}`);
  const sidecar = await startSidecar(cp, { service, version, appPort: app.port, ports: { inbound, outbound, admin } });
  return { app, sidecar };
}

async function startUpstreamWithProxy(name: string, proxy: string): Promise<Upstream> {
  const proc = startProcess([join(ROOT, 'test/fixtures/upstream.mjs')], { NAME: name, PORT: '0', SEKISHO_PROXY: proxy });
  const port = Number((await proc.waitForLine((l) => l.startsWith('listening '))).split(' ')[1]);
  return { name, port, url: `http://127.0.0.1:${port}`, proc };
}

export interface MeshGatewayProc {
  readonly proc: Proc;
  readonly url: string;
  readonly adminUrl: string;
}

/** `sekisho gateway --control-plane … --token … --name NAME` (a mesh member). */
export async function startMeshGateway(cp: ControlPlaneProc, name = 'edge'): Promise<MeshGatewayProc> {
  const proc = startProcess([CLI, 'gateway', '--control-plane', cp.xdsUrl, '--token', JOIN_TOKEN, '--ca', cp.caFile, '--name', name, '--state-dir', join(tempDir(), 'gw')]);
  const ready = JSON.parse(await proc.waitForLine((l) => l.includes('"gateway ready"'), 20_000)) as { listen: string; admin: string };
  return { proc, url: `http://${ready.listen}`, adminUrl: `http://${ready.admin}` };
}

/** Requests in a loop until stopped (bounded: 45 s, 50 000 requests), counting failures. */
export class Traffic {
  sent = 0;
  readonly failures: string[] = [];
  private running = true;
  private readonly done: Promise<void>;

  /** `url` answers 200 with `{status: 200}` (an app's /call) or is sent with `headers` and must answer 200. */
  constructor(url: string, headers?: Record<string, string>) {
    const dispatcher = client();
    const deadline = Date.now() + 45_000;
    this.done = (async () => {
      while (this.running && Date.now() < deadline && this.sent < 50_000) {
        this.sent++;
        try {
          const res = await send(url, { dispatcher, headers });
          const ok = res.status === 200 && (headers !== undefined || res.json<{ status: number }>().status === 200);
          if (!ok) this.failures.push(`${res.status} ${res.text.slice(0, 300)}`);
        } catch (error) {
          this.failures.push((error as Error).message);
        }
      }
    })();
  }

  /** Lets at least `n` more requests go through. */
  async atLeast(n: number): Promise<void> {
    const target = this.sent + n;
    await eventually(async () => (this.sent >= target ? true : undefined), 20_000, `${n} more requests`);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}


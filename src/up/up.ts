import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { request } from 'undici';
import { formatConfigError, loadConfigFile } from '../config/load.js';
import type { RunEntry, SekishoConfig } from '../config/types.js';
import { STOP_WITH_PARENT_ENV } from '../cli/serve.js';
import { table } from '../cli/table.js';
import { formatAddress } from '../core/listener.js';
import { freePort, freePorts } from '../mesh/ports.js';
import { Supervised, type ProcessSpec } from './supervisor.js';

/**
 * glibc gives each thread that allocates its own malloc arena, and memory freed in them is seldom
 * handed back: a sidecar's V8 and TLS worker threads cost it RSS under load that two arenas save
 * (about 3–4 MB at 1,000 req/s on bench s5, four runs each way). glibc reads it once at process
 * start, so only whoever starts the sidecar can set it; one set by the user is kept.
 */
const SIDECAR_ENV: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: process.env['MALLOC_ARENA_MAX'] ?? '2' };

/** One app instance with its sidecar, and the ports `up` gave them. */
interface Instance {
  readonly name: string;
  readonly appPort: number;
  readonly outbound: number;
  readonly inbound: number;
  readonly admin: number;
  readonly app: Supervised;
  readonly sidecar: Supervised;
}

const CLI = resolve(import.meta.dirname, '../cli/main.js');
const READY_POLL_MS = 200;
const CONTROL_PLANE_START_MS = 20_000;

/**
 * `sekisho up`: the whole mesh of one file on this machine. Starts the control plane, then the
 * gateway (a mesh member) and every `run` entry's replicas, each app beside its own sidecar, on
 * free ports; prefixes every output line with the process's name; prints a status table once
 * everything answers; restarts what crashes; and on stop ends every process group it started.
 *
 * Apps start right after their sidecars without waiting for them: the sidecar's outbound
 * listener holds early calls until the mesh is ready.
 */
export class Up {
  private controlPlane: Supervised | undefined;
  private gateway: Supervised | undefined;
  private readonly instances: Instance[] = [];
  private gatewayUrl = '';
  private gatewayAdmin = '';
  private controlPlaneAdmin = '';
  private controlPlaneXds = '';
  private readyTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly width: number;

  private constructor(
    private readonly config: SekishoConfig,
    private readonly runDir: string,
    private readonly token: string,
    private readonly out: NodeJS.WritableStream,
  ) {
    const names = Object.values(config.services).flatMap((s) => (s.run ?? []).map((r) => `${s.name}/${r.version}#${r.replicas} sidecar`));
    this.width = Math.max('control-plane'.length, ...names.map((n) => n.length));
  }

  static async start(file: string, out: NodeJS.WritableStream = process.stdout): Promise<Up> {
    const env = { ...process.env };
    env['SEKISHO_JOIN_TOKEN'] ||= randomBytes(16).toString('hex');
    const loaded = await loadConfigFile(file, env);
    if (!loaded.ok) throw new Error(loaded.errors.map(formatConfigError).join('\n'));
    const config = loaded.config;
    const up = new Up(config, mkdtempSync(join(tmpdir(), 'sekisho-up-')), config.controlPlane?.joinToken ?? env['SEKISHO_JOIN_TOKEN'], out);
    try {
      await up.startControlPlane(file);
      up.startGateway();
      await up.startInstances(dirname(file));
    } catch (error) {
      await up.stop();
      throw error;
    }
    up.waitUntilReady();
    return up;
  }

  private print = (name: string, line: string): void => {
    this.out.write(`${name.padEnd(this.width)} | ${line}\n`);
  };

  private sekisho(name: string, args: string[], onLine?: (line: string) => void, env: NodeJS.ProcessEnv = {}): Supervised {
    const spec: ProcessSpec = {
      name,
      command: process.execPath,
      args: [CLI, ...args],
      env: { ...process.env, ...env, SEKISHO_JOIN_TOKEN: this.token, [STOP_WITH_PARENT_ENV]: '1' },
      cwd: this.runDir,
      onLine,
      stdinPipe: true,
    };
    const process_ = new Supervised(spec, this.print);
    process_.start();
    return process_;
  }

  /**
   * Ports given as 0 become fixed free ports, so a restarted control plane is where the proxies
   * look for it; a `memory` store becomes a file store in the run folder, so it keeps its CA.
   */
  private controlPlaneArgs: string[] = [];

  private async planControlPlane(): Promise<void> {
    const cp = this.config.controlPlane;
    const listen = cp?.listen ?? { host: '127.0.0.1', port: 15000 };
    const xds = cp?.xds ?? { host: '127.0.0.1', port: 15012 };
    const listenPort = listen.port || (await freePort(listen.host));
    const xdsPort = xds.port || (await freePort(xds.host));
    this.controlPlaneAdmin = formatAddress({ host: loopbackFor(listen.host), port: listenPort });
    this.controlPlaneXds = formatAddress({ host: loopbackFor(xds.host), port: xdsPort });
    this.controlPlaneArgs = [
      '--listen', formatAddress({ host: listen.host, port: listenPort }),
      '--xds', formatAddress({ host: xds.host, port: xdsPort }),
      ...((cp?.store ?? 'memory') === 'memory' ? ['--store', `file:${join(this.runDir, 'control-plane')}`] : []),
    ];
  }

  private async startControlPlane(file: string): Promise<void> {
    await this.planControlPlane();
    this.controlPlane = this.sekisho('control-plane', ['control-plane', '-c', file, '--ca-out', this.caFile, ...this.controlPlaneArgs]);
    const deadline = Date.now() + CONTROL_PLANE_START_MS;
    while (!(await answers(`http://${this.controlPlaneAdmin}/ready`))) {
      if (Date.now() > deadline) throw new Error(`the control plane did not start within ${CONTROL_PLANE_START_MS / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
  }

  private get caFile(): string {
    return join(this.runDir, 'ca.pem');
  }

  private meshArgs(): string[] {
    return ['--control-plane', `https://${this.controlPlaneXds}`, '--token', this.token, '--ca', this.caFile];
  }

  private startGateway(): void {
    const gateway = this.config.gateway;
    if (gateway === undefined) return;
    this.gateway = this.sekisho('gateway', ['gateway', ...this.meshArgs(), '--name', gateway.name, '--state-dir', join(this.runDir, 'gateway')], (line) => {
      const log = parseLog(line);
      if (log?.['msg'] !== 'gateway ready') return;
      this.gatewayUrl = `http://${String(log['listen'])}`;
      this.gatewayAdmin = `http://${String(log['admin'])}`;
    });
  }

  private async startInstances(configDir: string): Promise<void> {
    const runs = Object.values(this.config.services).flatMap((service) => (service.run ?? []).map((entry) => ({ service, entry })));
    const ports = await freePorts(4 * runs.reduce((n, r) => n + r.entry.replicas, 0));
    for (const { service, entry } of runs) {
      for (let replica = 1; replica <= entry.replicas; replica++) {
        this.startInstance(service.name, entry, replica, ports.splice(0, 4) as [number, number, number, number], configDir);
      }
    }
  }

  /** A sidecar, then its app at once (the sidecar holds the app's early calls). */
  private startInstance(service: string, entry: RunEntry, replica: number, ports: [number, number, number, number], configDir: string): void {
    const name = `${service}/${entry.version}#${replica}`;
    const [appPort, outbound, inbound, admin] = ports;
    const sidecar = this.sekisho(`${name} sidecar`, [
      'sidecar', '--service', service, '--version', entry.version, '--app-port', String(appPort),
      '--inbound', String(inbound), '--outbound', String(outbound), '--admin', String(admin),
      '--state-dir', join(this.runDir, name.replace(/[/#]/g, '-')), ...this.meshArgs(),
    ], undefined, SIDECAR_ENV);
    const proxy = `http://127.0.0.1:${outbound}`;
    const app = new Supervised(
      {
        name,
        command: '/bin/sh',
        args: ['-c', entry.command],
        cwd: entry.cwd ?? configDir,
        env: {
          ...process.env,
          ...entry.env,
          PORT: String(appPort),
          SEKISHO_PROXY: proxy,
          HTTP_PROXY: proxy,
          http_proxy: proxy,
          NO_PROXY: 'localhost,127.0.0.1',
          no_proxy: 'localhost,127.0.0.1',
          SEKISHO_SERVICE: service,
          SEKISHO_VERSION: entry.version,
        },
      },
      this.print,
    );
    app.start();
    this.instances.push({ name, appPort, outbound, inbound, admin, app, sidecar });
  }

  /**
   * Polls until every piece answers, then prints the status table once. The gateway's addresses
   * come from its "gateway ready" log line (its config may say port 0).
   */
  private waitUntilReady(): void {
    const poll = async (): Promise<void> => {
      if (this.stopped) return;
      if (await this.allReady()) {
        this.out.write(this.statusTable());
        return;
      }
      this.readyTimer = setTimeout(() => void poll(), READY_POLL_MS);
    };
    void poll();
  }

  private async allReady(): Promise<boolean> {
    if (this.config.gateway !== undefined && (this.gatewayUrl === '' || !(await answers(`${this.gatewayAdmin}/ready`)))) return false;
    for (const instance of this.instances) {
      if (!(await answers(`http://127.0.0.1:${instance.admin}/ready`))) return false;
      if (!(await accepts(instance.appPort))) return false;
    }
    return true;
  }

  private statusTable(): string {
    const lines = ['', 'sekisho up: ready', `  control plane  admin http://${this.controlPlaneAdmin}  xds https://${this.controlPlaneXds}`];
    if (this.gatewayUrl !== '') lines.push(`  gateway        ${this.gatewayUrl}  admin ${this.gatewayAdmin}`);
    lines.push('');
    const rows = this.instances.map((i) => [i.name, String(i.appPort), String(i.outbound), String(i.inbound), String(i.admin)]);
    const body = table([['INSTANCE', 'APP', 'OUTBOUND', 'INBOUND', 'ADMIN'], ...rows]).replace(/^/gm, '  ');
    return lines.join('\n') + '\n' + body + '\n';
  }

  /** Apps first (they may still be calling), then sidecars and the gateway, then the control plane. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.readyTimer);
    this.out.write('sekisho up: stopping\n');
    await Promise.all(this.instances.map((i) => i.app.stop()));
    await Promise.all([...this.instances.map((i) => i.sidecar.stop()), this.gateway?.stop()]);
    await this.controlPlane?.stop();
    rmSync(this.runDir, { recursive: true, force: true });
    this.out.write('sekisho up: stopped\n');
  }
}

/** Where to reach a listener bound to `host` from this machine. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function parseLog(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

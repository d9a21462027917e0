/**
 * The processes a benchmark starts: peers, upstreams, load generators. Each runs pinned to one
 * CPU core (when the machine has two), is tracked so a crash or Ctrl-C never leaves one behind,
 * and is stopped by its own pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { request } from 'undici';

export const ROOT = resolve(import.meta.dirname, '../..');
/** The `sekisho` command measured: this checkout's build, or another one given as `SEKISHO_CLI` (to compare builds). */
export const CLI = resolve(process.env['SEKISHO_CLI'] ?? join(ROOT, 'dist/cli/main.js'));

/**
 * Core 1 runs the proxy under test; core 0 runs the load generator and the upstream, so the proxy
 * never competes with the traffic it serves. With one core there is nothing to pin.
 */
export const PROXY_CORE = 1;
export const LOAD_CORE = 0;
export const pinning = availableParallelism() >= 2 && commandExists('taskset');

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** A started process whose stdout and stderr go to a log file (never through this process). */
export class Running {
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((done) => child.on('exit', (code) => done(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last few KiB of its output, for error messages. */
  get tail(): string {
    return readFileSync(this.logFile, 'utf8').slice(-4000);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

const running = new Set<Running>();

export interface StartOptions {
  /** Shown in errors. */
  readonly name: string;
  readonly core: number;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  /** Working directory (default: the repository); a peer's temp folder keeps its files out of the checkout. */
  readonly cwd?: string;
  /**
   * Where its output goes. A file, not a pipe: a gateway's access log at full load would otherwise
   * be read by the harness, on whichever core it runs.
   */
  readonly logFile: string;
}

/** Starts a process pinned to `core`. */
export function start(options: StartOptions): Running {
  const { command, args, core } = options;
  const [file, argv] = pinning ? ['taskset', ['-c', String(core), command, ...args]] : [command, [...args]];
  const out = openSync(options.logFile, 'a');
  const child = spawn(file, argv, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', out, out] });
  closeSync(out);
  const proc = new Running(options.name, child, options.logFile);
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  return proc;
}

/** Stops every process this module started and that is still running. */
export async function stopEverything(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(2_000)));
}

/** Resident set size of a process, in bytes (Linux). */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * Memory only this process holds, in bytes (Linux `smaps_rollup`: private clean + private dirty
 * pages): what one more such process adds to a host. The rest of its RSS is shared — mostly the
 * pages of the `node` binary, which every Node.js process maps.
 */
export function privateBytes(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(rollup)?.[1] ?? NaN);
  return (kb('Private_Clean') + kb('Private_Dirty')) * 1024;
}

/** A loopback port free right now (the peer binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sekisho-bench-${prefix}-`));
}

export interface Expectation {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** Length of the body every benchmark response carries (the upstream's 1 KiB). */
  readonly bodyBytes?: number;
}

/**
 * Polls `url` until it answers as expected, failing after `ms` or as soon as `proc` exits.
 * This is how every peer is known to be ready *and* correctly configured before it is measured.
 */
export async function waitForAnswer(
  proc: Running,
  url: string,
  expect: Expectation = { status: 200 },
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!proc.alive) throw new Error(`${proc.name} exited before answering ${url}:\n${proc.tail}`);
    try {
      const res = await request(url, { headers: expect.headers, headersTimeout: 2_000, bodyTimeout: 2_000 });
      const body = Buffer.from(await res.body.arrayBuffer());
      last = `status ${res.statusCode}, ${body.length} bytes: ${body.subarray(0, 200).toString()}`;
      const statusOk = res.statusCode === (expect.status ?? 200);
      const bodyOk = expect.bodyBytes === undefined || body.length === expect.bodyBytes;
      if (statusOk && bodyOk) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.name} did not answer ${url} as expected within ${ms} ms (last: ${last}):\n${proc.tail}`);
}

/** The first existing file of `candidates` (Debian puts binaries in /usr/sbin, outside some PATHs). */
export function findBinary(...candidates: string[]): string | undefined {
  return candidates.find((c) => (c.includes('/') ? existsSync(c) : commandExists(c)));
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');

/** A child process whose stdout lines are kept and can be waited for. */
export class Proc {
  readonly lines: string[] = [];
  private waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  readonly exited: Promise<number | null>;
  stderr = '';

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true));
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  }

  /** The first stdout line (past or future) satisfying `test`; rejects after `ms` or if the process exits. */
  waitForLine(test: (line: string) => boolean, ms = 10_000): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line within ${ms} ms; stderr: ${this.stderr}\nstdout: ${this.lines.join('\n')}`)), ms);
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`process exited (${code}) before the line; stderr: ${this.stderr}\nstdout: ${this.lines.join('\n')}`));
      });
      this.waiters.push({ test, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  }

  /** JSON log lines parsed. */
  logs(): Record<string, unknown>[] {
    return this.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

const running = new Set<Proc>();

export function startProcess(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new Proc(child);
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  return proc;
}

/** Kills whatever a test file started and did not stop (use in `after`). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
}

export interface Upstream {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly proc: Proc;
}

export async function startUpstream(name: string, port = 0): Promise<Upstream> {
  const proc = startProcess([join(ROOT, 'test/fixtures/upstream.mjs')], { NAME: name, PORT: String(port) });
  const line = await proc.waitForLine((l) => l.startsWith('listening '));
  const actual = Number(line.split(' ')[1]);
  return { name, port: actual, url: `http://127.0.0.1:${actual}`, proc };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sekisho-test-'));
}

export interface GatewayProc {
  readonly proc: Proc;
  readonly url: string;
  readonly adminUrl: string;
  readonly configFile: string;
}

/**
 * Writes `yaml` to a fresh folder and runs `sekisho gateway -c` on it, through the built CLI.
 * Use port 0 in the config; the real ports come from the "gateway ready" log line.
 */
export async function startGateway(yaml: string, env: Record<string, string> = {}): Promise<GatewayProc> {
  const dir = tempDir();
  const configFile = join(dir, 'sekisho.yaml');
  writeFileSync(configFile, yaml);
  const proc = startProcess([CLI, 'gateway', '-c', configFile], env);
  const ready = JSON.parse(await proc.waitForLine((l) => l.includes('"gateway ready"'))) as { listen: string; admin: string };
  return { proc, configFile, url: `http://${ready.listen}`, adminUrl: `http://${ready.admin}` };
}

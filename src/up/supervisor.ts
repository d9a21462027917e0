import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ProcessSpec {
  /** The log prefix. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Called with every output line (stdout and stderr), unprefixed. */
  readonly onLine?: (line: string) => void;
  /**
   * Give the process a stdin pipe that closes when this process ends, however it ends: the
   * `sekisho` processes `up` starts stop on it (see STOP_WITH_PARENT_ENV), so even a `kill -9`
   * of `up` leaves no sidecar, gateway or control plane behind.
   */
  readonly stdinPipe?: boolean;
}

/** Restart delays: 0.5 s doubling to 10 s; a process that stayed up 10 s starts over at 0.5 s. */
const RESTART_FIRST_MS = 500;
const RESTART_MAX_MS = 10_000;
const STOP_GRACE_MS = 5000;

/**
 * One supervised process: run in its own process group (so a stop reaches whatever it spawned),
 * its output prefixed with its name, restarted with backoff when it exits on its own.
 */
export class Supervised {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private startedAt = 0;
  private stopping = false;
  restarts = 0;

  constructor(
    readonly spec: ProcessSpec,
    private readonly print: (name: string, line: string) => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.startedAt = Date.now();
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: this.spec.env,
      stdio: [this.spec.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.print(this.spec.name, line);
        this.spec.onLine?.(line);
      });
    }
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.print(this.spec.name, `cannot start: ${error.message}`);
      });
      child.once('close', (code, signal) => {
        resolve();
        if (!this.stopping) this.scheduleRestart(code, signal);
      });
    });
  }

  private scheduleRestart(code: number | null, signal: NodeJS.Signals | null): void {
    if (Date.now() - this.startedAt > RESTART_MAX_MS) this.failures = 0;
    const delay = Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** this.failures++);
    this.print(this.spec.name, `exited (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(1)}s`);
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.start();
    }, delay);
  }

  /** SIGTERM to the process group, SIGKILL after a grace period; resolves once it is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
    // The leader is gone; anything it left in its group goes too.
    signalGroup(child, 'SIGKILL');
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is already empty
  }
}

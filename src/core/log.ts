import sonicBoom from 'sonic-boom';

// sonic-boom is CommonJS: its class comes off the module object.
const { SonicBoom } = sonicBoom;
type Writer = InstanceType<typeof SonicBoom>;

/**
 * The process logger: one JSON object per line on stdout, in pino's shape
 * (`{"level":"info","time":"…","component":"gateway",…fields,"msg":"…"}`), written
 * asynchronously by sonic-boom (pino's own writer) so logging never blocks a request.
 * `SEKISHO_LOG_LEVEL` (default `info`) sets the level; `silent` turns logs off.
 *
 * Why not pino itself: it loads its worker-thread transport machinery whether or not a
 * transport is used, about 8 MB of resident memory in every process — most of a sidecar's
 * budget — for features Sekisho does not use. The fields of a line are the caller's own plain
 * object, serialized once.
 */
export interface Logger {
  debug(fields: object, msg: string): void;
  debug(msg: string): void;
  info(fields: object, msg: string): void;
  info(msg: string): void;
  warn(fields: object, msg: string): void;
  warn(msg: string): void;
  error(fields: object, msg: string): void;
  error(msg: string): void;
  fatal(fields: object, msg: string): void;
  fatal(msg: string): void;
  isLevelEnabled(level: LogLevel): boolean;
  /** Starts writing what is buffered (it is written by the time the process exits). */
  flush(): void;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type LogLevel = Exclude<keyof typeof LEVELS, 'silent'>;

let stdout: Writer | undefined;

/** One writer per process, flushed synchronously on exit so the last lines are not lost. */
function destination(): Writer {
  if (stdout === undefined) {
    const out = new SonicBoom({ fd: 1, sync: false });
    stdout = out;
    out.on('error', (error: NodeJS.ErrnoException) => {
      // Whoever read stdout is gone (`sekisho up` killed, a closed pipe): logging stops, serving
      // goes on. Any other write error is a real fault and surfaces as one.
      if (error.code !== 'EPIPE') throw error;
      const noop = (): boolean => true;
      out.write = noop;
      out.flush = noop as () => void;
      out.flushSync = noop as () => void;
    });
    process.once('exit', () => out.flushSync());
  }
  return stdout;
}

function levelFromEnv(): number {
  const name = process.env['SEKISHO_LOG_LEVEL'] ?? 'info';
  const level = (LEVELS as Record<string, number>)[name];
  if (level === undefined) throw new Error(`SEKISHO_LOG_LEVEL must be one of ${Object.keys(LEVELS).join(', ')} (got "${name}")`);
  return level;
}

class JsonLogger implements Logger {
  private readonly prefix: string;

  constructor(
    component: string,
    private readonly threshold: number,
    private readonly out: Writer,
  ) {
    this.prefix = `,"component":${JSON.stringify(component)}`;
  }

  debug(a: object | string, b?: string): void {
    if (this.threshold <= 20) this.write('debug', a, b);
  }

  info(a: object | string, b?: string): void {
    if (this.threshold <= 30) this.write('info', a, b);
  }

  warn(a: object | string, b?: string): void {
    if (this.threshold <= 40) this.write('warn', a, b);
  }

  error(a: object | string, b?: string): void {
    if (this.threshold <= 50) this.write('error', a, b);
  }

  fatal(a: object | string, b?: string): void {
    if (this.threshold <= 60) this.write('fatal', a, b);
  }

  isLevelEnabled(level: LogLevel): boolean {
    return this.threshold <= LEVELS[level];
  }

  flush(): void {
    this.out.flush();
  }

  private write(level: string, fieldsOrMsg: object | string, msg: string | undefined): void {
    let line = `{"level":"${level}","time":"${new Date().toISOString()}"${this.prefix}`;
    if (typeof fieldsOrMsg === 'string') {
      msg = fieldsOrMsg;
    } else {
      const fields = JSON.stringify(fieldsOrMsg);
      if (fields.length > 2) line += `,${fields.slice(1, -1)}`;
    }
    this.out.write(`${line},"msg":${JSON.stringify(msg ?? '')}}\n`);
  }
}

export function createLogger(component: string): Logger {
  return new JsonLogger(component, levelFromEnv(), destination());
}

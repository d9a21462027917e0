import { connect } from 'node:net';

/** What came back on a raw connection. */
export interface RawOutcome {
  /** Status of the first response, if one arrived complete. */
  readonly status: number | undefined;
  /** Its headers, names lower-case. */
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Whether the server closed the connection (before the deadline). */
  readonly closed: boolean;
  /** Milliseconds from connecting to the response (or the close). */
  readonly elapsedMs: number;
}

export interface RawOptions {
  /** Wait for the server to close the connection after the response (default: stop at the response). */
  readonly awaitClose?: boolean;
  /** Pause between the parts of the request. */
  readonly gapMs?: number;
  /** Give up after this long (default 5 s). */
  readonly timeoutMs?: number;
}

/**
 * Sends bytes over a plain TCP connection, exactly as given (latin1 strings or buffers, written
 * part by part with `gapMs` between), and reads one response. For requests no HTTP client would
 * send: hostile framing, slow heads, bodies that grow past a limit.
 */
export function rawRequest(port: number, parts: readonly (string | Buffer)[], options: RawOptions = {}): Promise<RawOutcome> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let response: Omit<RawOutcome, 'closed' | 'elapsedMs'> | undefined;
    let elapsedMs = 0;
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...(response ?? { status: undefined, headers: {}, body: '' }), closed, elapsedMs: elapsedMs || Date.now() - started });
    };
    const timer = setTimeout(() => {
      if (response !== undefined && options.awaitClose !== true) return finish(false);
      done = true;
      socket.destroy();
      reject(new Error(`no ${response === undefined ? 'response' : 'close'} within ${timeoutMs} ms; got ${JSON.stringify(data.toString('latin1'))}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (response === undefined) {
        response = parseResponse(data);
        if (response !== undefined) elapsedMs = Date.now() - started;
      }
      if (response !== undefined && options.awaitClose !== true) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => {}); // a reset after the answer counts as a close
    void (async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0 && options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
        if (done || socket.destroyed) return;
        socket.write(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
      }
    })();
  });
}

/** The first response once all of it (by Content-Length) has arrived. */
function parseResponse(data: Buffer): Omit<RawOutcome, 'closed' | 'elapsedMs'> | undefined {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (data.length < end + 4 + length) return undefined;
  return { status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(end + 4, end + 4 + length) };
}

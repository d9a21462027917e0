import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { STATUS_CODES } from './llhttp.js';
import { writeJoined } from './write.js';

/** What a request and its response need from the connection that carries them. */
export interface MessageConnection {
  readonly socket: Socket;
  /** The listener is shutting down: responses ask clients to close. */
  readonly closing: boolean;
  /** The request body's reader wants more: read from the socket again. */
  resumeBody(): void;
  /** The body's buffer is full: stop reading the socket until `resumeBody`. */
  pauseBody(): void;
  /** `Expect: 100-continue` was asked and the body is now wanted. */
  sendContinue(): void;
  /** The response is complete (written to the socket) or abandoned; the connection moves on. */
  responseDone(response: HttpResponse, keepAlive: boolean): void;
}

/**
 * One request as the listener parsed it: method, target, raw headers and, when it has one, a
 * body stream. Plain fields, no events: the proxy reads what it needs once.
 */
export class HttpRequest {
  /** The body, streamed; created when the first byte arrives or when the proxy asks for it. */
  private bodyStream: RequestBody | null = null;
  /** The whole request, body included, has been received. */
  complete = false;
  private headerObject: IncomingHttpHeaders | undefined = undefined;

  constructor(
    private readonly connection: MessageConnection,
    readonly method: string,
    readonly url: string,
    readonly httpVersionMajor: number,
    readonly httpVersionMinor: number,
    /** Flat `[name, value, …]` as received. */
    readonly rawHeaders: string[],
    /** HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `keep-alive`. */
    readonly shouldKeepAlive: boolean,
    readonly expectsContinue: boolean,
  ) {}

  get socket(): Socket {
    return this.connection.socket;
  }

  /** Lower-case names to values, duplicates joined as node:http does; built on first use only. */
  get headers(): IncomingHttpHeaders {
    return (this.headerObject ??= headerObject(this.rawHeaders));
  }

  /**
   * One header as `headers[lowerName]` gives it, found without building the object: filters on
   * the hot path read one or two headers of a request, and the object costs a lower-casing of
   * every name.
   */
  header(lowerName: string): string | undefined {
    if (this.headerObject !== undefined) return this.headerObject[lowerName] as string | undefined;
    const raw = this.rawHeaders;
    let value: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length !== lowerName.length || (name !== lowerName && name.toLowerCase() !== lowerName)) continue;
      if (value === undefined) {
        value = raw[i + 1]!;
        if (FIRST_ONLY.has(lowerName)) return value;
      } else {
        value = joinHeaderValues(lowerName, value, raw[i + 1]!);
      }
    }
    return value;
  }

  /** Whether any of the body was read or asked for (an early answer then closes the connection). */
  hasBodyStarted(): boolean {
    return this.bodyStream !== null;
  }

  /** The body stream (ends at once when the body turned out empty). */
  openBody(): RequestBody {
    if (this.bodyStream === null) {
      this.bodyStream = new RequestBody(this.connection, this.expectsContinue);
      if (this.complete) this.bodyStream.push(null);
    }
    return this.bodyStream;
  }

  /** A decoded body chunk from the parser. */
  bodyChunk(chunk: Buffer): void {
    if (!this.openBody().push(chunk)) this.connection.pauseBody();
  }

  /** The parser reached the end of this request. */
  ended(): void {
    this.complete = true;
    this.bodyStream?.push(null);
  }

  /** The connection closed or broke before the body was complete. */
  aborted(): void {
    const body = this.bodyStream;
    if (this.complete || body === null || body.destroyed) return;
    // Only an error someone listens for: an unheard 'error' event would take the process down.
    if (body.listenerCount('error') === 0) body.destroy();
    else body.destroy(Object.assign(new Error('the client closed the connection before the request body was complete'), { code: 'ECONNRESET' }));
  }
}

/** Request header names node:http keeps only the first of (duplicates of these are discarded). */
const FIRST_ONLY = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host',
  'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards',
  'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent',
]);

function headerObject(raw: readonly string[]): IncomingHttpHeaders {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const previous = headers[name];
    if (previous === undefined) headers[name] = value;
    else if (!FIRST_ONLY.has(name)) headers[name] = joinHeaderValues(name, previous, value);
  }
  return headers;
}

/** Repeated header lines as one value, the way node:http joins them. */
function joinHeaderValues(lowerName: string, previous: string, value: string): string {
  return `${previous}${lowerName === 'cookie' ? '; ' : ', '}${value}`;
}

/**
 * A request body as a Readable, with backpressure down to the socket: a full buffer pauses
 * reading, a read resumes it. The first read is also when `100 Continue` goes out, so a request
 * refused on its head (413, 401) is answered before the client sends the body.
 */
export class RequestBody extends Readable {
  private continueOwed: boolean;

  constructor(
    private readonly connection: MessageConnection,
    expectsContinue: boolean,
  ) {
    super({ highWaterMark: 64 * 1024 });
    this.continueOwed = expectsContinue;
  }

  override _read(): void {
    if (this.continueOwed) {
      this.continueOwed = false;
      this.connection.sendContinue();
    }
    this.connection.resumeBody();
  }
}

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

/**
 * One response on an HTTP/1.1 connection. The head is held until the first body bytes (or the
 * end) so that head and a small body leave in a single write. Framing is chosen from the
 * headers: a Content-Length is kept, otherwise the body is chunked (HTTP/1.1) or delimited by
 * closing the connection (HTTP/1.0). HEAD, 204 and 304 responses carry no body.
 */
export class HttpResponse {
  headersSent = false;
  /** The whole response was handed to the socket. */
  writableFinished = false;
  /** The response will never complete (the connection broke or was taken over by an error). */
  destroyed = false;
  /** Called once when the socket can take more after a `write` returned false. */
  onDrain: (() => void) | undefined = undefined;
  private head: string | undefined = undefined;
  private chunked = false;
  private noBody = false;
  private keepAlive = true;
  private closeListener: ((arg: never) => void) | undefined = undefined;
  private closeArg: unknown = undefined;

  constructor(
    private readonly connection: MessageConnection,
    private readonly request: HttpRequest,
  ) {}

  /** `listener(arg)` runs once when the response is over, complete or not. */
  whenClosed<T>(listener: (arg: T) => void, arg: T): void {
    this.closeListener = listener as (arg: never) => void;
    this.closeArg = arg;
  }

  /** `headers` is a flat `[name, value, …]` list, hop-by-hop fields already removed. */
  writeHead(status: number, headers: readonly string[]): void {
    if (this.headersSent || this.destroyed) return;
    this.headersSent = true;
    const request = this.request;
    this.keepAlive = request.shouldKeepAlive && !this.connection.closing;
    let hasLength = false;
    let hasDate = false;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      switch (name.length) {
        case 4:
          if (name.toLowerCase() === 'date') hasDate = true;
          break;
        case 10:
          // Asked for by the proxy (draining, a refused head): honoured, and written once below.
          if (name.toLowerCase() === 'connection') {
            if (value.toLowerCase() === 'close') this.keepAlive = false;
            continue;
          }
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') hasLength = true;
          break;
      }
      head += `${name}: ${value}\r\n`;
    }
    this.noBody = request.method === 'HEAD' || status === 204 || status === 304;
    if (!this.noBody && !hasLength) {
      if (request.httpVersionMinor >= 1) {
        this.chunked = true;
        head += 'transfer-encoding: chunked\r\n';
      } else {
        this.keepAlive = false; // HTTP/1.0: the end of the body is the end of the connection
      }
    }
    if (!hasDate) head += `date: ${httpDate()}\r\n`;
    if (!this.keepAlive) head += 'connection: close\r\n';
    else if (request.httpVersionMinor === 0) head += 'connection: keep-alive\r\n';
    this.head = head + CRLF;
  }

  /** Returns false when the socket's buffer is full; `onDrain` is called when it empties. */
  write(chunk: Buffer): boolean {
    if (this.destroyed || this.writableFinished) return false;
    if (this.noBody || chunk.length === 0) return true;
    return this.send(chunk, false);
  }

  end(chunk?: Buffer | string): void {
    if (this.destroyed || this.writableFinished) return;
    const body = chunk === undefined || this.noBody ? undefined : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (body !== undefined && body.length > 0) this.send(body, true);
    else if (this.chunked) this.flushHeadWith(LAST_CHUNK);
    else this.flushHeadWith('');
    this.writableFinished = true;
    this.connection.responseDone(this, this.keepAlive);
  }

  /** Cuts the response: the connection closes (a truncated body must not pass for a whole one). */
  destroy(_error?: Error): void {
    if (this.writableFinished || this.destroyed) return;
    this.connection.socket.destroy();
  }

  /** The connection reports the response over (finished, or the socket closed first). */
  closed(): void {
    if (!this.writableFinished) this.destroyed = true;
    const listener = this.closeListener;
    if (listener === undefined) return;
    this.closeListener = undefined;
    listener(this.closeArg as never);
  }

  private send(body: Buffer, last: boolean): boolean {
    const socket = this.connection.socket;
    const head = this.head;
    this.head = undefined;
    let ok: boolean;
    if (!this.chunked) {
      ok = head === undefined ? socket.write(body) : writeJoined(socket, head, body, '');
    } else {
      const size = body.length.toString(16) + CRLF;
      const prefix = head === undefined ? size : head + size;
      ok = writeJoined(socket, prefix, body, last ? CRLF + LAST_CHUNK : CRLF);
    }
    return ok;
  }

  /** The socket emptied its buffer (the connection forwards its `drain`). */
  drained(): void {
    const resume = this.onDrain;
    this.onDrain = undefined;
    resume?.();
  }

  private flushHeadWith(text: string): void {
    const head = this.head;
    this.head = undefined;
    const out = head === undefined ? text : head + text;
    if (out !== '') this.connection.socket.write(out, 'latin1');
  }
}

let dateText = '';
let dateSecond = 0;

/** The IMF-fixdate of now, formatted at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

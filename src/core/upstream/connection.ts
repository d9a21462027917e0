import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import {
  EarlyHeadLines,
  isParseError,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageComplete,
  newParser,
  type LlhttpParser,
} from '../http1/llhttp.js';
import { writeJoined } from '../http1/write.js';
import { UpstreamErrorCode, upstreamError, type UpstreamHandler, type UpstreamRequest } from './transport.js';

/** What a connection needs from the pool that opened it. */
export interface ConnectionOwner {
  /** `host` header value for requests that carry none: the origin's authority. */
  readonly authority: string;
  /** Idle time allowed when the upstream gave no `Keep-Alive: timeout` hint. */
  readonly idleTimeoutMs: number;
  /** The exchange is over (completed or failed); `reusable` says whether the connection may serve another. */
  exchangeEnded(connection: Connection, reusable: boolean): void;
  /** A stale keep-alive connection failed this request before it was answered: send it again on a fresh one. */
  resend(request: UpstreamRequest, handler: UpstreamHandler): void;
  /** The socket closed (either side): forget the connection. */
  connectionClosed(connection: Connection): void;
}

/**
 * Where a connection is:
 *   connecting    socket opening (TCP, then TLS), the first request waiting to be written
 *   awaiting-head request (being) written, no final response head yet (1xx may come and go)
 *   reading-body  final head delivered, body streaming to the handler
 *   completed     response complete inside the current parser.execute(); released once it returns
 *   idle          in the pool's idle list, socket unref'd and reading (to see the server close it)
 *   closed        destroyed; the 'close' event does the bookkeeping
 */
type Phase = 'connecting' | 'awaiting-head' | 'reading-body' | 'completed' | 'idle' | 'closed';

/** What the connection's single timer is counting down. */
type Deadline = 'none' | 'connect' | 'headers' | 'body' | 'idle';

/** Upstream `Keep-Alive: timeout` hints are honoured up to this (undici's keepAliveMaxTimeout). */
const MAX_KEEP_ALIVE_MS = 600_000;
/** Stop reusing this long before the upstream's announced timeout, so we never race its close. */
const KEEP_ALIVE_MARGIN_MS = 1000;
/**
 * Methods Go's net/http re-sends when a reused connection turns out to be dead before any
 * response byte: they are safe to repeat (an `idempotency-key` header makes any method so).
 */
const RESENDABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
/** Failures that mean "the server had already closed this keep-alive connection". */
const STALE_CONNECTION_CODES = new Set<string>(['ECONNRESET', 'EPIPE', UpstreamErrorCode.closed]);
/** Characters that would end a header line or the request line early (request smuggling). */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const INVALID_HEADER_NAME = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const INVALID_PATH = /[^\x21-\x7e\x80-\xff]/;

/** The llhttp parser with a link back to its connection (callbacks get the parser as `this`). */
interface ResponseParser extends LlhttpParser {
  connection: Connection;
}

/**
 * One HTTP/1.1 connection to an upstream: a socket, an llhttp response parser and at most one
 * exchange at a time (no pipelining). Everything an exchange needs is a field here, so a request
 * costs no closures: the socket, body-stream and parser callbacks are bound once per connection,
 * and one timer per connection serves the connect, headers, body-idle and keep-alive deadlines.
 */
export class Connection {
  private phase: Phase = 'connecting';
  private request: UpstreamRequest | null = null;
  private handler: UpstreamHandler | null = null;
  /** Exchanges this connection completed: a failure on a reused one may be the keep-alive race. */
  private served = 0;
  /** Any byte of the current request's response has arrived. */
  private responseStarted = false;
  /** The last request was written whole (a streamed body too). */
  private requestSent = false;
  /** Whether the connection may serve another exchange after this one. */
  private reusable = true;
  /** The current head is a 1xx: its message-complete does not complete the exchange. */
  private informational = false;
  /** The request was HEAD: its response has no body whatever its headers say. */
  private headRequest = false;
  /** The handler asked to pause reading (onHeaders/onData returned false). */
  private pausedByHandler = false;
  /** Header lines of a head that spans several reads (llhttp hands them over early). */
  private readonly early = new EarlyHeadLines();
  private keepAliveMs: number;
  private socketError: Error | null = null;

  /** A streamed request body being written, and its framing. */
  private bodyStream: Readable | null = null;
  /** Bytes a content-length body still owes; -1 for a chunked body. */
  private bodyBytesLeft = -1;
  private bodyWaitsForDrain = false;

  /** The connection's one timer object: refreshed, and replaced only when it must fire sooner. */
  private timer: NodeJS.Timeout | undefined = undefined;
  /** Its duration (what `refresh()` restarts it with). */
  private timerMs = 0;
  private timerPending = false;
  /** `performance.now()` at which the pending timer fires. */
  private timerDue = 0;
  /** `performance.now()` at which `deadlineKind` expires; the timer may fire earlier and re-arm. */
  private deadline = 0;
  private deadlineKind: Deadline = 'none';

  private readonly parser: ResponseParser;

  constructor(
    readonly socket: Socket,
    private readonly owner: ConnectionOwner,
    connectTimeoutMs: number,
    maxHeaderSize: number,
    readyEvent: 'connect' | 'secureConnect',
  ) {
    this.keepAliveMs = owner.idleTimeoutMs;
    const parser = newParser('response', maxHeaderSize) as ResponseParser;
    parser.connection = this;
    parser[kOnHeaders] = parserOnHeaders;
    parser[kOnHeadersComplete] = parserOnHeadersComplete;
    parser[kOnBody] = parserOnBody;
    parser[kOnMessageComplete] = parserOnMessageComplete;
    this.parser = parser;

    socket.setNoDelay(true);
    socket.on(readyEvent, this.onConnected);
    socket.on('data', this.onSocketData);
    socket.on('end', this.onSocketEnd);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    socket.on('drain', this.onSocketDrain);
    this.arm('connect', connectTimeoutMs);
  }

  /** Cancels the current exchange: the connection is destroyed, the handler gets onError once. */
  readonly abort = (reason?: Error): void => {
    if (this.handler === null) return;
    this.failExchange(reason ?? upstreamError(UpstreamErrorCode.aborted, 'upstream request aborted'), false);
  };

  /** Undoes a pause the handler asked for by returning false. */
  readonly resume = (): void => {
    if (!this.pausedByHandler) return;
    this.pausedByHandler = false;
    if (this.phase === 'reading-body') this.arm('body', this.request!.bodyTimeoutMs);
    this.socket.resume();
  };

  /** Starts an exchange: on a fresh connection once it is up, on an idle one at once. */
  start(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.request = request;
    this.handler = handler;
    this.responseStarted = false;
    this.requestSent = false;
    this.informational = false;
    this.pausedByHandler = false;
    this.headRequest = request.method === 'HEAD';
    if (this.phase === 'idle') {
      this.phase = 'awaiting-head';
      this.socket.ref();
      handler.onConnect(this.abort);
      if (this.handler === handler) this.sendRequest();
    } else {
      handler.onConnect(this.abort);
    }
  }

  /** Closes the connection now; an exchange under way fails with `reason`. */
  destroy(reason?: Error): void {
    if (this.handler !== null) return this.failExchange(reason ?? upstreamError(UpstreamErrorCode.closed, 'connection closed'), false);
    this.phase = 'closed';
    this.deadlineKind = 'none';
    this.socket.destroy();
  }

  // ---- request -------------------------------------------------------------------------------

  /** Writes the request head (and a Buffer body) in one go; a stream body follows as it comes. */
  private sendRequest(): void {
    const request = this.request!;
    const body = request.body;
    const headers = request.headers;
    const streamed = body !== null && !Buffer.isBuffer(body);
    if (INVALID_PATH.test(request.path)) return this.rejectRequest(`invalid request target ${JSON.stringify(request.path)}`);
    let head = request.method + ' ' + request.path + ' HTTP/1.1\r\n';
    let hasHost = false;
    let streamLength = -1;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      if (name.length === 4) {
        if (name.toLowerCase() === 'host') hasHost = true;
      } else if (name.length === 14) {
        if (name.toLowerCase() === 'content-length') {
          // A stream is sent as framed by its content-length; otherwise the framing is ours.
          if (!streamed) continue;
          streamLength = Number(value);
        }
      } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
        continue;
      }
      if (INVALID_HEADER_NAME.test(name) || INVALID_HEADER_VALUE.test(value)) return this.rejectRequest(`invalid request header ${JSON.stringify(name)}`);
      head += name + ': ' + value + '\r\n';
    }
    if (!hasHost) head += 'host: ' + this.owner.authority + '\r\n';
    const socket = this.socket;

    if (body === null) {
      const method = request.method;
      if (method === 'POST' || method === 'PUT' || method === 'PATCH') head += 'content-length: 0\r\n';
      socket.write(head + '\r\n', 'latin1');
      this.requestSent = true;
    } else if (!streamed) {
      const buffer = body as Buffer;
      head += 'content-length: ' + buffer.length + '\r\n\r\n';
      writeJoined(socket, head, buffer, '');
      this.requestSent = true;
    } else {
      if (streamLength < 0 || !Number.isSafeInteger(streamLength)) {
        streamLength = -1;
        head += 'transfer-encoding: chunked\r\n';
      }
      socket.write(head + '\r\n', 'latin1');
      this.streamBody(body as Readable, streamLength);
    }
    // Armed after the head: a streamed body re-arms it with each chunk it writes.
    this.arm('headers', request.headersTimeoutMs);
  }

  private rejectRequest(message: string): void {
    this.failExchange(upstreamError(UpstreamErrorCode.invalidRequest, message), false);
  }

  private streamBody(body: Readable, contentLength: number): void {
    this.bodyStream = body;
    this.bodyBytesLeft = contentLength;
    this.bodyWaitsForDrain = false;
    if (body.readableEnded) return this.onBodyEnd();
    if (body.destroyed) return this.onBodyClose();
    body.on('data', this.onBodyData);
    body.on('end', this.onBodyEnd);
    body.on('error', this.onBodyError);
    body.on('close', this.onBodyClose);
    body.resume();
  }

  private readonly onBodyData = (data: Buffer | string): void => {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (chunk.length === 0) return; // a zero-size chunk would end a chunked body
    const socket = this.socket;
    let flushed: boolean;
    if (this.bodyBytesLeft < 0) {
      socket.cork();
      socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
      socket.write(chunk);
      flushed = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      this.bodyBytesLeft -= chunk.length;
      if (this.bodyBytesLeft < 0) return this.bodyFailed('the request body is longer than its content-length');
      flushed = socket.write(chunk);
    }
    if (this.deadlineKind === 'headers') this.arm('headers', this.request!.headersTimeoutMs);
    if (!flushed) {
      this.bodyWaitsForDrain = true;
      this.bodyStream!.pause();
    }
  };

  private readonly onBodyEnd = (): void => {
    if (this.bodyBytesLeft > 0) return this.bodyFailed('the request body ended before its content-length');
    if (this.bodyBytesLeft < 0) this.socket.write('0\r\n\r\n', 'latin1');
    this.detachBody();
    this.requestSent = true;
  };

  private readonly onBodyError = (error: Error): void => {
    this.failExchange(error, false);
  };

  private readonly onBodyClose = (): void => {
    this.bodyFailed('the request body stream closed before its end');
  };

  private bodyFailed(message: string): void {
    this.failExchange(upstreamError(UpstreamErrorCode.requestBody, message), false);
  }

  private readonly onSocketDrain = (): void => {
    if (!this.bodyWaitsForDrain) return;
    this.bodyWaitsForDrain = false;
    this.bodyStream?.resume();
  };

  private detachBody(): void {
    const body = this.bodyStream;
    if (body === null) return;
    this.bodyStream = null;
    body.off('data', this.onBodyData);
    body.off('end', this.onBodyEnd);
    body.off('error', this.onBodyError);
    body.off('close', this.onBodyClose);
  }

  // ---- response (parser callbacks) -----------------------------------------------------------

  headerLines(lines: string[]): void {
    this.early.add(lines, '');
  }

  /** A response head; returns 1 to tell llhttp the response has no body. */
  headComplete(rawHeaders: string[] | undefined, statusCode: number, statusMessage: string, upgrade: boolean, shouldKeepAlive: boolean): number {
    rawHeaders = this.early.takeHeaders(rawHeaders);
    const handler = this.handler;
    if (handler === null || this.phase !== 'awaiting-head') {
      // Bytes nobody asked for (a second response, junk after the last one): never reuse.
      this.reusable = false;
      return 1;
    }
    if (statusCode < 200 && !upgrade) {
      this.informational = true; // 100 Continue, 103 Early Hints: the final answer is still to come
      return 0;
    }
    if (upgrade) {
      this.failExchange(upstreamError('HPE_UNEXPECTED_UPGRADE', `upstream answered ${statusCode} with a protocol upgrade`), false);
      return 1;
    }
    const request = this.request!;
    const noBody = this.headRequest;
    this.phase = 'reading-body';
    if (!shouldKeepAlive) this.reusable = false;
    else this.keepAliveMs = keepAliveHintMs(rawHeaders ?? [], this.owner.idleTimeoutMs);
    this.arm('body', request.bodyTimeoutMs);
    if (!handler.onHeaders(statusCode, rawHeaders ?? [], this.resume, statusMessage) && this.handler === handler) this.pauseReading();
    return noBody ? 1 : 0;
  }

  body(chunk: Buffer): void {
    const handler = this.handler;
    if (handler === null || this.phase !== 'reading-body') return;
    if (!this.pausedByHandler) this.arm('body', this.request!.bodyTimeoutMs);
    // Several chunks may come out of one execute() after a pause: they are delivered all the same.
    if (!handler.onData(chunk) && this.handler === handler) this.pauseReading();
  }

  messageComplete(): void {
    this.early.messageEnded();
    if (this.informational) {
      this.informational = false;
      return;
    }
    const handler = this.handler;
    if (handler === null || this.phase !== 'reading-body') return;
    this.handler = null;
    this.request = null;
    this.served++;
    this.phase = 'completed';
    this.deadlineKind = 'none';
    if (!this.requestSent) {
      // Answered before the body was all sent (413, 401…): the rest of it would be read as the
      // next request, so this connection ends here.
      this.reusable = false;
      this.detachBody();
    }
    handler.onComplete(null);
  }

  private pauseReading(): void {
    this.pausedByHandler = true;
    this.deadlineKind = 'none'; // time the handler holds us paused is not upstream silence
    this.socket.pause();
  }

  // ---- socket events -------------------------------------------------------------------------

  private readonly onConnected = (): void => {
    if (this.phase !== 'connecting') return;
    this.phase = 'awaiting-head';
    if (this.handler !== null) this.sendRequest();
  };

  private readonly onSocketData = (chunk: Buffer): void => {
    const phase = this.phase;
    if (phase !== 'awaiting-head' && phase !== 'reading-body') {
      // Data on an idle connection (a 408, junk): nothing can be read from it safely any more.
      this.destroy();
      return;
    }
    this.responseStarted = true;
    const result = this.parser.execute(chunk);
    if (isParseError(result)) {
      if (this.handler !== null) return this.failExchange(result, false);
      this.reusable = false; // junk after a complete response
    }
    if (this.phase === 'completed') this.release();
  };

  /** The upstream closed its side: a close-delimited body ends here, anything else is cut short. */
  private readonly onSocketEnd = (): void => {
    if (this.phase === 'reading-body') {
      this.parser.finish(); // completes a close-delimited body (messageComplete); otherwise it was cut short
      if (this.handler !== null) return this.failExchange(closedError('before the response was complete'), true);
      if ((this.phase as Phase) === 'completed') this.release(); // finish() completed it
      return;
    }
    if (this.handler !== null) this.failExchange(closedError('before responding'), true);
    else this.destroy();
  };

  private readonly onSocketError = (error: Error): void => {
    this.socketError ??= error;
    if (this.handler !== null) this.failExchange(error, true);
  };

  private readonly onSocketClose = (): void => {
    if (this.handler !== null) this.failExchange(this.socketError ?? closedError(this.phase === 'reading-body' ? 'before the response was complete' : 'before responding'), true);
    this.phase = 'closed';
    this.deadlineKind = 'none';
    clearTimeout(this.timer);
    this.timerPending = false;
    this.detachBody();
    const parser = this.parser;
    parser.remove();
    parser.close();
    this.owner.connectionClosed(this);
  };

  // ---- endings -------------------------------------------------------------------------------

  /** After a complete response: back to the idle list, or closed when it cannot be reused. */
  private release(): void {
    const reusable = this.reusable && this.requestSent && !this.socket.destroyed;
    if (reusable) {
      this.phase = 'idle';
      this.pausedByHandler = false;
      this.socket.unref();
      this.socket.resume(); // an idle socket keeps reading, so a close by the server is seen at once
      this.arm('idle', this.keepAliveMs);
    } else {
      this.phase = 'closed';
      this.socket.destroy();
    }
    this.owner.exchangeEnded(this, reusable);
  }

  /**
   * Ends the current exchange with `error` and destroys the connection. A request that met a
   * stale keep-alive connection (reused, closed under it before any response byte) goes out
   * once more on a fresh connection when repeating it is safe, as Go's net/http does.
   */
  private failExchange(error: Error, mayResend: boolean): void {
    const handler = this.handler!;
    const request = this.request!;
    this.handler = null;
    this.request = null;
    this.reusable = false;
    this.deadlineKind = 'none';
    this.detachBody();
    this.phase = 'closed';
    this.socket.destroy();
    if (mayResend && this.served > 0 && !this.responseStarted && isResendable(request, error)) {
      this.owner.resend(request, handler);
      return;
    }
    this.owner.exchangeEnded(this, false);
    handler.onError(error);
  }

  // ---- the one timer -------------------------------------------------------------------------

  /**
   * Sets the deadline for `kind` without allocating in the common case: a pending timer that
   * fires no later than the deadline is left alone (when it fires early it re-arms for the rest),
   * so a body chunk costs a clock read, and a request on a warm connection usually finds the
   * timer of its predecessor due before its own deadline.
   */
  private arm(kind: Deadline, ms: number): void {
    const now = performance.now();
    const due = now + ms;
    this.deadlineKind = kind;
    this.deadline = due;
    if (this.timerPending && this.timerDue <= due) return;
    this.schedule(now, ms);
  }

  /**
   * Makes the timer fire within `ms` from `now`: refreshed when its duration fits (no later than
   * `ms`, and no sooner than half of it, so a short duration left from a final approach does not
   * turn into a busy tick), else replaced.
   */
  private schedule(now: number, ms: number): void {
    this.timerPending = true;
    const timerMs = this.timerMs;
    if (this.timer !== undefined && timerMs <= ms && timerMs * 2 >= ms) {
      this.timer.refresh();
      this.timerDue = now + this.timerMs;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(onConnectionTimer, ms, this);
    this.timer.unref(); // the socket keeps the process up while it matters
    this.timerMs = ms;
    this.timerDue = now + ms;
  }

  timerFired(): void {
    this.timerPending = false;
    const kind = this.deadlineKind;
    if (kind === 'none' || this.phase === 'closed') return;
    const now = performance.now();
    const left = this.deadline - now;
    if (left >= 1) return this.schedule(now, left);
    this.deadlineKind = 'none';
    switch (kind) {
      case 'connect':
        return this.destroy(upstreamError(UpstreamErrorCode.connectTimeout, 'connecting to the upstream timed out'));
      case 'headers':
        return this.destroy(upstreamError(UpstreamErrorCode.headersTimeout, 'no response head from the upstream in time'));
      case 'body':
        return this.destroy(upstreamError(UpstreamErrorCode.bodyTimeout, 'the upstream response body stalled'));
      case 'idle':
        return this.destroy();
    }
  }
}

function closedError(when: string): Error {
  return upstreamError(UpstreamErrorCode.closed, `upstream closed the connection ${when}`);
}

function isResendable(request: UpstreamRequest, error: Error): boolean {
  if (!STALE_CONNECTION_CODES.has((error as NodeJS.ErrnoException).code ?? '')) return false;
  if (request.body !== null && !Buffer.isBuffer(request.body)) return false;
  if (RESENDABLE_METHODS.has(request.method)) return true;
  const headers = request.headers;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 15 && name.toLowerCase() === 'idempotency-key') return true;
  }
  return false;
}

/**
 * How long a connection may idle: the upstream's `Keep-Alive: timeout=N` hint less a second
 * (at least 1 s, at most 10 min), or `fallbackMs` without one.
 */
export function keepAliveHintMs(rawHeaders: readonly string[], fallbackMs: number): number {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 10 || name.toLowerCase() !== 'keep-alive') continue;
    const match = /(?:^|[\s,])timeout\s*=\s*(\d+)/i.exec(rawHeaders[i + 1]!);
    if (match === null) return fallbackMs;
    const ms = Number(match[1]) * 1000 - KEEP_ALIVE_MARGIN_MS;
    return Math.min(MAX_KEEP_ALIVE_MS, Math.max(1000, ms));
  }
  return fallbackMs;
}

// Parser and timer callbacks, shared by every connection: `this` is the parser.
function parserOnHeaders(this: ResponseParser, lines: string[]): void {
  this.connection.headerLines(lines);
}

function parserOnHeadersComplete(
  this: ResponseParser,
  _versionMajor: number,
  _versionMinor: number,
  rawHeaders: string[] | undefined,
  _method: unknown,
  _url: unknown,
  statusCode: number,
  statusMessage: string,
  upgrade: boolean,
  shouldKeepAlive: boolean,
): number {
  return this.connection.headComplete(rawHeaders, statusCode, statusMessage, upgrade, shouldKeepAlive);
}

function parserOnBody(this: ResponseParser, chunk: Buffer): void {
  this.connection.body(chunk);
}

function parserOnMessageComplete(this: ResponseParser): void {
  this.connection.messageComplete();
}

function onConnectionTimer(connection: Connection): void {
  connection.timerFired();
}

import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TlsOptions } from 'node:tls';
import { newRequestId } from '../headers.js';
import { Problem, problemBody, problemHeaders } from '../problem.js';
import {
  EarlyHeadLines, isParseError, STATUS_CODES, kOnBody, kOnHeaders, kOnHeadersComplete, kOnMessageComplete, METHODS, newParser,
  type LlhttpParser, type ParseError,
} from './llhttp.js';
import { HttpRequest, HttpResponse, type MessageConnection } from './message.js';

export type RequestHandler = (req: HttpRequest, res: HttpResponse) => void;

export interface Http1Limits {
  /** Time allowed for a request head, from its first byte (or the connection's start). */
  readonly headersTimeoutMs: number;
  /** Time allowed for a whole request, body included; 0 for none. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept. */
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderSize: number;
}

export interface Http1ServerOptions {
  readonly limits: Http1Limits;
  /** Serve HTTPS (the mesh adds client-certificate options later through the TLS server). */
  readonly tls?: TlsOptions;
}

/**
 * Sekisho's HTTP/1.1 listener: sockets from `net` (or `tls`), bytes fed to llhttp, and requests
 * handed to the proxy as small plain objects (see message.ts) — node:http's stream-per-message
 * machinery is what this replaces.
 *
 * Every public port gets the same protections: a deadline for the request head (slowloris), an
 * optional one for the whole request, a bounded head, and llhttp's strict mode (never the
 * lenient one: it lets request smuggling through). A request the parser refuses never reaches
 * the handler: it gets a problem document (SPEC §6) and its connection is closed. Pipelined
 * requests are answered in order, one at a time. Timeouts are checked by one sweep per listener,
 * not by timers per request.
 */
export class Http1Server {
  readonly server: NetServer;
  /** Set by a graceful stop: responses from now on close their connections. */
  closing = false;
  private readonly connections = new Set<ServerConnection>();
  private sweeper: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly handler: RequestHandler,
    private readonly options: Http1ServerOptions,
  ) {
    if (options.tls === undefined) {
      this.server = createNetServer({ noDelay: true }, (socket) => this.accept(socket));
    } else {
      this.server = createTlsServer(options.tls, (socket) => this.accept(socket));
    }
    this.server.on('listening', () => this.startSweeping());
    this.server.on('close', () => clearInterval(this.sweeper));
  }

  get tlsServer(): TlsServer {
    return this.server as TlsServer;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  get limits(): Http1Limits {
    return this.options.limits;
  }

  /** Stops accepting connections; resolves once every open one has closed. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Closes connections waiting for a next request (a graceful stop's first step). */
  closeIdleConnections(): void {
    for (const connection of this.connections) if (connection.isIdle()) connection.socket.destroy();
  }

  closeAllConnections(): void {
    for (const connection of this.connections) connection.socket.destroy();
  }

  forget(connection: ServerConnection): void {
    this.connections.delete(connection);
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.connections.add(new ServerConnection(this, socket));
  }

  private startSweeping(): void {
    const { headersTimeoutMs } = this.options.limits;
    this.sweeper = setInterval(sweep, Math.max(50, Math.min(1000, headersTimeoutMs)), this.connections, this.options.limits);
    this.sweeper.unref();
  }
}

function sweep(connections: Set<ServerConnection>, limits: Http1Limits): void {
  const now = Date.now();
  for (const connection of connections) connection.checkTimeouts(now, limits);
}

type Phase = 'head' | 'active' | 'idle';

/** One client connection: its parser, the request being answered, and pipelined ones waiting. */
class ServerConnection implements MessageConnection {
  private readonly parser: LlhttpParser;
  /** What the timeout sweep measures: waiting for a head, serving, or idle between requests. */
  private phase: Phase = 'head';
  private since = Date.now();
  /** The request whose bytes the parser is reading (head done, body under way). */
  private parsing: HttpRequest | undefined = undefined;
  private parsingSince = 0;
  /** The request being answered, and its response. */
  private request: HttpRequest | undefined = undefined;
  private response: HttpResponse | undefined = undefined;
  /** A response finished before its request was fully read: move on once it is. */
  private awaitingRequestEnd = false;
  private waiting: HttpRequest[] | undefined = undefined;
  private pausedForBody = false;
  private pausedForQueue = false;
  /** No more requests are read: a parse error, or the connection is closing. */
  private done = false;
  private readonly early = new EarlyHeadLines();

  constructor(
    private readonly owner: Http1Server,
    readonly socket: Socket,
  ) {
    const parser: ParserWithConnection = Object.assign(newParser('request', owner.limits.maxHeaderSize), { connection: this });
    parser[kOnHeaders] = onHeaders;
    parser[kOnHeadersComplete] = onHeadersComplete;
    parser[kOnBody] = onBody;
    parser[kOnMessageComplete] = onMessageComplete;
    this.parser = parser;
    (socket as SocketWithConnection).connection = this;
    socket.on('data', onSocketData);
    socket.on('drain', onSocketDrain);
    socket.on('error', ignore); // 'close' follows
    socket.on('close', onSocketClose);
  }

  get closing(): boolean {
    return this.owner.closing;
  }

  isIdle(): boolean {
    return this.phase === 'idle' || (this.phase === 'head' && this.request === undefined && this.parsing === undefined);
  }

  read(chunk: Buffer): void {
    if (this.done) return;
    if (this.phase === 'idle') {
      this.phase = 'head';
      this.since = Date.now();
    }
    const result = this.parser.execute(chunk);
    if (isParseError(result)) this.refuse(result);
  }

  headerPart(headers: string[], url: string): void {
    this.early.add(headers, url);
  }

  headComplete(major: number, minor: number, given: string[] | undefined, method: number, givenUrl: string | undefined, upgrade: boolean, keepAlive: boolean): void {
    const rawHeaders = this.early.takeHeaders(given);
    const url = this.early.takeUrl(givenUrl);
    // CONNECT and `Upgrade` turn llhttp into tunnel mode: nothing after this head is parsed as
    // HTTP again. Sekisho tunnels nothing, so the request is answered as a plain one and the
    // connection closed after it.
    if (upgrade) this.done = true;
    const request = new HttpRequest(this, METHODS[method] ?? 'GET', url, major, minor, rawHeaders, keepAlive && !upgrade, expectsContinue(rawHeaders));
    this.parsing = request;
    this.parsingSince = Date.now();
    this.phase = 'active';
    if (this.response === undefined && !this.awaitingRequestEnd) return this.serve(request);
    (this.waiting ??= []).push(request);
    this.pausedForQueue = true;
    this.socket.pause();
  }

  bodyChunk(chunk: Buffer): void {
    this.parsing?.bodyChunk(chunk);
  }

  messageComplete(): void {
    this.early.messageEnded();
    const request = this.parsing;
    this.parsing = undefined;
    request?.ended();
    if (this.awaitingRequestEnd && request === this.request) {
      this.awaitingRequestEnd = false;
      this.next();
    }
  }

  private serve(request: HttpRequest): void {
    const response = new HttpResponse(this, request);
    this.request = request;
    this.response = response;
    this.owner.handler(request, response);
  }

  responseDone(response: HttpResponse, keepAlive: boolean): void {
    if (response !== this.response) return;
    const request = this.request!;
    this.response = undefined;
    response.closed();
    if (!keepAlive || this.done) return this.closeAfterWrite();
    if (request.complete) return this.next();
    // Answered before the request was read to its end: a body under way is not worth reading
    // (and cannot be trusted to frame the next request); a bodiless request just has not been
    // marked complete yet by the parser.
    if (request.hasBodyStarted()) return this.closeAfterWrite();
    this.awaitingRequestEnd = true;
  }

  /** On to the next pipelined request, or idle until one comes. */
  private next(): void {
    this.request = undefined;
    const waiting = this.waiting;
    if (waiting !== undefined && waiting.length > 0) {
      const request = waiting.shift()!;
      if (waiting.length === 0) this.resumeQueue();
      return this.serve(request);
    }
    if (this.parsing === undefined) {
      this.phase = 'idle';
      this.since = Date.now();
    }
  }

  pauseBody(): void {
    this.pausedForBody = true;
    this.socket.pause();
  }

  resumeBody(): void {
    if (!this.pausedForBody) return;
    this.pausedForBody = false;
    if (!this.pausedForQueue) this.socket.resume();
  }

  private resumeQueue(): void {
    this.pausedForQueue = false;
    if (!this.pausedForBody) this.socket.resume();
  }

  sendContinue(): void {
    if (this.response !== undefined && !this.response.headersSent && !this.done) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
  }

  drained(): void {
    this.response?.drained();
  }

  /** Nothing more is read; the socket closes once what was written has been sent. */
  private closeAfterWrite(): void {
    this.done = true;
    this.socket.end();
    this.socket.once('finish', destroySocket);
  }

  /**
   * A request the parser refused (or one too slow to arrive): answered with a problem document
   * unless a response is already under way, then the connection closes — after a framing error
   * nothing more on it can be trusted.
   */
  private refuse(error: ParseError | 'timeout'): void {
    if (error !== 'timeout' && error.code === 'HPE_CLOSED_CONNECTION') {
      // Bytes after a request that said `Connection: close`: ignored; the connection ends after its response.
      this.done = true;
      return;
    }
    this.done = true;
    this.parsing?.aborted();
    const response = this.response;
    if (response?.headersSent === true || !this.socket.writable) {
      this.socket.destroy();
      return;
    }
    if (response !== undefined) response.destroyed = true; // the proxy must not answer over this
    const { status, detail } = refusal(error);
    const problem = new Problem('bad_request', detail, undefined, status);
    const body = problemBody(problem, newRequestId());
    const headers = problemHeaders(problem, body);
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    this.socket.end(`${head}connection: close\r\n\r\n${body}`);
    this.socket.once('finish', destroySocket);
  }

  checkTimeouts(now: number, limits: Http1Limits): void {
    if (this.done) return;
    switch (this.phase) {
      case 'idle':
        if (now - this.since > limits.keepAliveTimeoutMs) this.socket.destroy();
        return;
      case 'head':
        if (now - this.since > limits.headersTimeoutMs) this.refuse('timeout');
        return;
      case 'active':
        if (limits.requestTimeoutMs > 0 && this.parsing !== undefined && now - this.parsingSince > limits.requestTimeoutMs) this.refuse('timeout');
    }
  }

  closed(): void {
    this.done = true;
    this.owner.forget(this);
    this.parsing?.aborted();
    this.waiting = undefined;
    const response = this.response;
    this.response = undefined;
    response?.closed();
  }
}

interface SocketWithConnection extends Socket {
  connection: ServerConnection;
}

type ParserWithConnection = LlhttpParser & { connection: ServerConnection };

// Parser and socket callbacks shared by every connection: no closures per connection or request.
function onHeaders(this: ParserWithConnection, headers: string[], url: string): void {
  this.connection.headerPart(headers, url);
}

function onHeadersComplete(
  this: ParserWithConnection, major: number, minor: number, rawHeaders: string[] | undefined, method: number, url: string | undefined,
  _status: number, _statusMessage: string, upgrade: boolean, keepAlive: boolean,
): number {
  this.connection.headComplete(major, minor, rawHeaders, method, url, upgrade, keepAlive);
  return 0;
}

function onBody(this: ParserWithConnection, chunk: Buffer): void {
  this.connection.bodyChunk(chunk);
}

function onMessageComplete(this: ParserWithConnection): void {
  this.connection.messageComplete();
}

function onSocketData(this: SocketWithConnection, chunk: Buffer): void {
  this.connection.read(chunk);
}

function onSocketDrain(this: SocketWithConnection): void {
  this.connection.drained();
}

function onSocketClose(this: SocketWithConnection): void {
  this.connection.closed();
}

function destroySocket(this: Socket): void {
  this.destroy();
}

function ignore(): void {}

/** `Expect: 100-continue` (the only expectation HTTP/1.1 defines). */
function expectsContinue(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 6 && rawHeaders[i]!.toLowerCase() === 'expect') return rawHeaders[i + 1]!.toLowerCase() === '100-continue';
  }
  return false;
}

function refusal(error: ParseError | 'timeout'): { status: number; detail: string } {
  if (error === 'timeout') return { status: 408, detail: 'the request was not received in time' };
  if (error.code === 'HPE_HEADER_OVERFLOW') return { status: 431, detail: 'the request head is too large' };
  return { status: 400, detail: 'the request is not valid HTTP/1.1' };
}

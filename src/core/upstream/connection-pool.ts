import { connect as tcpConnect, isIP, type NetConnectOpts } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Connection, type ConnectionOwner } from './connection.js';
import { UpstreamErrorCode, upstreamError, type UpstreamHandler, type UpstreamRequest } from './transport.js';

export interface PoolOptions {
  /** TCP connect plus TLS handshake. */
  readonly connectTimeoutMs: number;
  /**
   * TLS settings (mTLS credentials, `checkServerIdentity`, …). TLS is used for `https://`
   * origins, with Node's defaults when this is absent.
   */
  readonly tls?: ConnectionOptions;
  /** How long an idle connection is kept when the upstream gives no `Keep-Alive` hint (30 s). */
  readonly idleTimeoutMs?: number;
  /** Largest response head accepted (16 KiB, as Node's default). */
  readonly maxHeaderSize?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;
const PROBE_HEADERS = ['user-agent', 'sekisho-health-check'];

/**
 * HTTP/1.1 keep-alive connections to one origin (`http://host:port` or `https://host:port`):
 * as many connections as there are requests in flight, one request at a time on each (no
 * pipelining), idle ones reused last-in first-out so the warmest socket serves and the rest can
 * time out. See connection.ts for the exchange itself.
 */
export class ConnectionPool implements ConnectionOwner {
  readonly authority: string;
  readonly idleTimeoutMs: number;
  private readonly idle: Connection[] = [];
  /** Exchanges accepted and not yet completed or failed. */
  private inFlight = 0;
  private closed = false;
  private drained: (() => void) | undefined = undefined;
  private readonly connectTimeoutMs: number;
  private readonly maxHeaderSize: number;
  private readonly tcpOptions: NetConnectOpts | undefined;
  private readonly tlsOptions: ConnectionOptions | undefined;

  constructor(origin: string, options: PoolOptions) {
    const url = new URL(origin);
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') throw new Error(`unsupported upstream origin ${origin}`);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port || (secure ? 443 : 80));
    this.authority = url.host;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.maxHeaderSize = options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    if (secure) {
      this.tlsOptions = {
        servername: isIP(host) === 0 ? host : undefined,
        ALPNProtocols: ['http/1.1'],
        ...options.tls,
        host,
        port,
      };
    } else {
      this.tcpOptions = { host, port };
    }
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.closed) {
      process.nextTick(failClosed, handler);
      return;
    }
    this.inFlight++;
    const connection = this.idle.pop() ?? this.open();
    connection.start(request, handler);
  }

  /** GET `path` with the health checker's user agent; resolves the status, the body is dropped. */
  probe(path: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const probe = new Probe(resolve, reject, timeoutMs);
      this.dispatch({ method: 'GET', path, headers: PROBE_HEADERS, body: null, headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs }, probe);
    });
  }

  /**
   * Takes no more requests (later dispatches fail with `SEKISHO_TRANSPORT_CLOSED`, classified
   * `reset`), closes idle connections now and resolves once the exchanges under way are over.
   */
  close(): Promise<void> {
    this.closed = true;
    while (this.idle.length > 0) this.idle.pop()!.destroy();
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.drained;
      this.drained = previous === undefined ? resolve : () => (previous(), resolve());
    });
  }

  /** Idle connections kept for reuse (for tests and metrics). */
  get idleConnections(): number {
    return this.idle.length;
  }

  // ---- ConnectionOwner -----------------------------------------------------------------------

  exchangeEnded(connection: Connection, reusable: boolean): void {
    this.inFlight--;
    if (reusable) {
      if (this.closed) connection.destroy();
      else this.idle.push(connection);
    }
    if (this.closed && this.inFlight === 0 && this.drained !== undefined) {
      const drained = this.drained;
      this.drained = undefined;
      drained();
    }
  }

  resend(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.open().start(request, handler);
  }

  connectionClosed(connection: Connection): void {
    const at = this.idle.lastIndexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
  }

  /** A fresh connection. TLS sessions are never cached or offered: every handshake is full. */
  private open(): Connection {
    if (this.tlsOptions !== undefined) {
      return new Connection(tlsConnect(this.tlsOptions), this, this.connectTimeoutMs, this.maxHeaderSize, 'secureConnect');
    }
    return new Connection(tcpConnect(this.tcpOptions!), this, this.connectTimeoutMs, this.maxHeaderSize, 'connect');
  }
}

function failClosed(handler: UpstreamHandler): void {
  handler.onError(upstreamError(UpstreamErrorCode.transportClosed, 'the upstream transport is closed'));
}

/** A health probe's handler: the status is all that counts, within `timeoutMs` overall. */
class Probe implements UpstreamHandler {
  private status = 0;
  private abort: ((reason?: Error) => void) | undefined = undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly resolve: (status: number) => void,
    private readonly reject: (error: Error) => void,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(probeTimedOut, timeoutMs, this);
  }

  timedOut(): void {
    this.abort?.(upstreamError(UpstreamErrorCode.headersTimeout, 'health probe timed out'));
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(status: number): boolean {
    this.status = status;
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    clearTimeout(this.timer);
    this.resolve(this.status);
  }

  onError(error: Error): void {
    clearTimeout(this.timer);
    this.reject(error);
  }
}

function probeTimedOut(probe: Probe): void {
  probe.timedOut();
}

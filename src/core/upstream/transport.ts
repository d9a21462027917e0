import type { Readable } from 'node:stream';

/**
 * The upstream side of the core, protocol-neutral. A transport owns the connections to one
 * endpoint (an HTTP/1.1 keep-alive pool today; an HTTP/2 session or an mTLS pool plug in behind
 * the same interface) and streams one request/response exchange at a time into a handler.
 *
 * The handler shape is undici's native dispatch handler, so the HTTP/1.1 transport hands it to
 * undici without an adapter; other transports call the same five methods in the same order:
 * onConnect → (onHeaders → onData* → onComplete) | onError.
 */
export interface UpstreamHandler {
  /** The exchange started; `abort` cancels it (the handler then gets onError). */
  onConnect(abort: (reason?: Error) => void): void;
  /** Response head. Return false to pause the body until `resume` is called. */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  /** A body chunk. Return false to pause until `resume` (from onHeaders) is called. */
  onData(chunk: Buffer): boolean;
  onComplete(trailers: Buffer[] | string[] | null): void;
  onError(error: Error): void;
}

export interface UpstreamRequest {
  readonly method: string;
  /** Path and query as sent upstream. */
  readonly path: string;
  /** Flat `[name, value, …]` list, hop-by-hop headers already removed. */
  readonly headers: string[];
  readonly body: Readable | Buffer | null;
  /** Time allowed for the response head once the request is sent. */
  readonly headersTimeoutMs: number;
  /** Longest silence allowed between response body chunks. */
  readonly bodyTimeoutMs: number;
}

export interface UpstreamTransport {
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void;
  /** A health probe: GET `path`, resolving to the status code (rejects on failure or timeout). */
  probe(path: string, timeoutMs: number): Promise<number>;
  /** Stops taking requests; resolves when the ones under way have finished. */
  close(): Promise<void>;
}

/** What went wrong with an exchange, in the terms retries, outlier detection and errors use. */
export type UpstreamFailure =
  /** No connection was made: the request provably never reached the upstream. */
  | 'connect-failure'
  /** The connection broke before a complete response head arrived. */
  | 'reset'
  /** No response head within the timeout. */
  | 'timeout'
  /** The body stalled past the idle timeout, or the exchange failed otherwise. */
  | 'other';

const CONNECT_FAILURES = new Set([
  'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
]);
const RESETS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_CLOSED']);

export function classifyFailure(error: Error): UpstreamFailure {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (CONNECT_FAILURES.has(code)) return 'connect-failure';
  if (RESETS.has(code)) return 'reset';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return 'timeout';
  return 'other';
}

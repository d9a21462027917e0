import type { Readable } from 'node:stream';

/**
 * The upstream side of the core, protocol-neutral. A transport owns the connections to one
 * endpoint (Sekisho's own HTTP/1.1 keep-alive pool, plain or over mTLS; an HTTP/2 session could
 * plug in behind the same interface) and streams one request/response exchange at a time into a
 * handler, calling its methods in this order:
 * onConnect → (onHeaders → onData* → onComplete) | onError. Nothing is called after onComplete
 * or onError.
 *
 * `abort` and `resume` belong to the connection, not to the exchange (no closure per request):
 * a handler must not call them once it got onComplete or onError. onConnect may come a second
 * time, with a new `abort`, when the request is re-sent on a fresh connection after a stale
 * keep-alive connection failed (see connection.ts); the latest `abort` is the one that counts.
 */
export interface UpstreamHandler {
  /** The exchange started; `abort` cancels it (the handler then gets onError). */
  onConnect(abort: (reason?: Error) => void): void;
  /**
   * Response head (1xx responses never reach the handler). `rawHeaders` is the flat
   * `[name, value, …]` list as received. Return false to pause the body until `resume` is called.
   */
  onHeaders(statusCode: number, rawHeaders: string[], resume: () => void, statusText: string): boolean;
  /** A body chunk. Return false to pause until `resume` (from onHeaders) is called. */
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
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

/**
 * Error codes of Sekisho's own upstream client (errno codes such as ECONNREFUSED, ECONNRESET,
 * EPIPE and TLS verification codes pass through as they are; a malformed response fails with
 * llhttp's `HPE_*` code, classified `other`).
 */
export const UpstreamErrorCode = {
  /** TCP connect plus TLS handshake took longer than `connectTimeoutMs` (connect-failure). */
  connectTimeout: 'SEKISHO_UPSTREAM_CONNECT_TIMEOUT',
  /** No response head within `headersTimeoutMs` of the last request byte written (timeout). */
  headersTimeout: 'SEKISHO_UPSTREAM_HEADERS_TIMEOUT',
  /** The response body was silent for longer than `bodyTimeoutMs` (other). */
  bodyTimeout: 'SEKISHO_UPSTREAM_BODY_TIMEOUT',
  /** The upstream closed the connection before the response was complete (reset). */
  closed: 'SEKISHO_UPSTREAM_CLOSED',
  /** The transport was closed before this request could be sent (reset). */
  transportClosed: 'SEKISHO_TRANSPORT_CLOSED',
  /** The handler aborted the exchange without giving a reason (other). */
  aborted: 'SEKISHO_UPSTREAM_ABORTED',
  /** The request itself cannot be sent: a header or the path holds forbidden characters (other). */
  invalidRequest: 'SEKISHO_INVALID_UPSTREAM_REQUEST',
  /** A streamed request body did not match its content-length, or ended early (other). */
  requestBody: 'SEKISHO_REQUEST_BODY_FAILED',
} as const;

const CONNECT_FAILURES = new Set<string>([
  'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL',
  UpstreamErrorCode.connectTimeout, 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
]);
const RESETS = new Set<string>(['ECONNRESET', 'EPIPE', 'ECONNABORTED', UpstreamErrorCode.closed, UpstreamErrorCode.transportClosed]);

export function classifyFailure(error: Error): UpstreamFailure {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (CONNECT_FAILURES.has(code)) return 'connect-failure';
  if (RESETS.has(code)) return 'reset';
  if (code === UpstreamErrorCode.headersTimeout) return 'timeout';
  return 'other';
}

/** An Error carrying one of the codes above (or another `code`). */
export function upstreamError(code: string, message: string): NodeJS.ErrnoException {
  const error = new Error(message) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}

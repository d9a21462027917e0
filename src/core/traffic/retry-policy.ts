import type { IncomingHttpHeaders } from 'node:http';
import type { RetryConfig } from '../../config/types.js';
import { classifyFailure, type UpstreamFailure } from '../upstream/transport.js';

/**
 * What an attempt ended with, in the terms of `retries.on`:
 * - the transport failures of `UpstreamFailure`, plus `refused-stream` (an HTTP/2 peer refused
 *   the stream: like a connect failure, the request provably never reached the app);
 * - `timeout`: the per-try timeout expired; retried when `on` lists `504` or `5xx`, since a
 *   gateway answers a timed-out try with 504.
 */
export type AttemptFailure = UpstreamFailure | 'refused-stream';

/** Methods RFC 9110 §9.2.2 calls idempotent: repeating them is always allowed. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Error codes of a refused HTTP/2 stream (node:http2 and undici's h2 client). */
const REFUSED_STREAM = new Set(['NGHTTP2_REFUSED_STREAM', 'ERR_HTTP2_STREAM_ERROR_REFUSED_STREAM', 'UND_ERR_REFUSED_STREAM']);

export function attemptFailure(error: Error): AttemptFailure {
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && REFUSED_STREAM.has(code) ? 'refused-stream' : classifyFailure(error);
}

/**
 * A service's `retries`, compiled: which outcomes are worth another attempt, whether the request
 * may be repeated at all, and how long to wait first.
 *
 * SPEC §5: a request that is not idempotent (POST, PATCH, anything outside RFC 9110's idempotent
 * set) is repeated only when it provably never reached the app — a connect failure or a refused
 * stream — or when it carries `Idempotency-Key`. Everything else about retrying (attempts left,
 * deadline, budget, a replayable body) is the exchange's to check.
 *
 * gRPC hooks in at `retriesResponse`, which sees the response headers (`grpc-status` arrives
 * there for trailers-only answers) once the protocol is supported.
 */
export class RetryPolicy {
  readonly attempts: number;
  readonly perTryTimeoutMs: number | undefined;
  private readonly baseMs: number;
  private readonly maxMs: number;
  /** `retryStatus[s]` is 1 when status s is retried. */
  private readonly retryStatus = new Uint8Array(600);
  private readonly failures = new Set<AttemptFailure>();

  constructor(
    config: RetryConfig,
    private readonly random: () => number = Math.random,
  ) {
    this.attempts = config.attempts;
    this.perTryTimeoutMs = config.perTryTimeoutMs;
    this.baseMs = config.backoff.baseMs;
    this.maxMs = config.backoff.maxMs;
    for (const condition of config.on) {
      if (condition === 'connect-failure' || condition === 'reset' || condition === 'refused-stream') {
        this.failures.add(condition);
      } else if (condition.endsWith('xx')) {
        const base = Number(condition[0]) * 100;
        this.retryStatus.fill(1, base, base + 100);
      } else {
        this.retryStatus[Number(condition)] = 1;
      }
    }
    if (this.retryStatus[504] === 1) this.failures.add('timeout');
  }

  /** Whether an upstream answer with this status asks for another attempt. */
  retriesResponse(status: number, _rawHeaders: readonly string[]): boolean {
    return this.retryStatus[status] === 1;
  }

  /** Whether a failed attempt (no usable response) asks for another attempt. */
  retriesFailure(failure: AttemptFailure): boolean {
    return this.failures.has(failure);
  }

  /**
   * Whether this request may be sent again after this outcome (SPEC §5). `failure` is undefined
   * when the app answered: the request reached it.
   */
  static mayRepeat(method: string, headers: IncomingHttpHeaders, failure: AttemptFailure | undefined): boolean {
    if (IDEMPOTENT.has(method)) return true;
    if (failure === 'connect-failure' || failure === 'refused-stream') return true;
    return headers['idempotency-key'] !== undefined;
  }

  /**
   * Exponential backoff with jitter for retry number `retry` (1 for the first retry): a random
   * wait in [base, min(max, base × 2^retry)], so waits grow and concurrent retries spread out,
   * always within the configured bounds.
   */
  backoffMs(retry: number): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** retry);
    return this.baseMs + this.random() * (ceiling - this.baseMs);
  }
}

/**
 * The wait a `Retry-After` response header asks for, in ms: delay-seconds or an HTTP date;
 * undefined when absent or unreadable.
 */
export function retryAfterMs(rawHeaders: readonly string[], now: number): number | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 11 || name.toLowerCase() !== 'retry-after') continue;
    const value = rawHeaders[i + 1]!.trim();
    if (/^\d+$/.test(value)) return Number(value) * 1000;
    const date = Date.parse(value);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
  }
  return undefined;
}

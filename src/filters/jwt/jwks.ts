import { request } from 'undici';
import { SILENT_LOG, type EventLog } from '../event-log.js';
import { keyFits, keysOfJwks, type VerificationKey } from './keys.js';

/** Timing of a JWKS cache; the defaults are the behaviour SPEC §5 promises. */
export interface JwksTiming {
  /** Least time between two fetches, whatever asks for them (unknown kids, retries). */
  readonly minIntervalMs: number;
  /** Lifetime of a set served without `Cache-Control: max-age`. */
  readonly defaultTtlMs: number;
  /** Bounds on an advertised max-age. */
  readonly minTtlMs: number;
  readonly maxTtlMs: number;
  /** The background refresh runs when this share of the lifetime has passed. */
  readonly refreshAt: number;
  /** Longest wait between retries while the endpoint keeps failing. */
  readonly maxRetryMs: number;
  readonly fetchTimeoutMs: number;
}

export const DEFAULT_JWKS_TIMING: JwksTiming = {
  minIntervalMs: 5_000,
  defaultTtlMs: 300_000,
  minTtlMs: 10_000,
  maxTtlMs: 86_400_000,
  refreshAt: 0.8,
  maxRetryMs: 60_000,
  fetchTimeoutMs: 5_000,
};

/** Largest JWKS document accepted (an IdP's set is a few kB). */
const MAX_JWKS_BYTES = 1024 * 1024;

/**
 * The signing keys published at a `jwksUri`, kept fresh:
 * - fetched at start, then refreshed in the background before they expire (`max-age`, or 5 min);
 * - refetched when a token names a kid the set lacks, at most once per `minIntervalMs` (5 s), so
 *   a key rotated in at the identity provider is accepted within seconds while a flood of
 *   made-up kids costs one fetch per 5 s;
 * - when the endpoint fails, the last good set keeps serving and fetches are retried with backoff.
 *
 * Lookups are synchronous; only a refetch makes a caller wait. Survives config reloads (the
 * gateway's edge state keeps one cache per URI).
 */
export class JwksCache {
  private keys: readonly VerificationKey[] = [];
  /** Whether a set was ever fetched. */
  loaded = false;
  /** Whether the latest fetch failed (the set, if any, is the last good one). */
  lastFetchFailed = false;
  /** Fetches made, successful or not. */
  fetches = 0;
  private lastAttempt = -Infinity;
  private failures = 0;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly uri: string,
    private readonly timing: JwksTiming = DEFAULT_JWKS_TIMING,
    private readonly now: () => number = Date.now,
    private readonly log: EventLog = SILENT_LOG,
  ) {}

  /** Starts the first fetch without waiting for it. */
  start(): void {
    if (this.fetches === 0 && this.inflight === undefined) void this.refetch();
  }

  /**
   * Keys that may verify a token signed with `alg`: those with its `kid`, or every fitting key
   * when the token names none.
   */
  lookup(alg: string, kid: string | undefined): VerificationKey[] {
    return this.keys.filter((k) => (kid === undefined || k.kid === kid) && keyFits(k.key, alg));
  }

  /**
   * Fetches the set again unless one was fetched less than `minIntervalMs` ago; a fetch already
   * under way is shared. Resolves when the fetch is over (never rejects), or returns undefined
   * when the rate limit says no.
   */
  refetch(): Promise<void> | undefined {
    if (this.inflight !== undefined) return this.inflight;
    if (this.closed || this.now() - this.lastAttempt < this.timing.minIntervalMs) return undefined;
    this.lastAttempt = this.now();
    this.fetches++;
    clearTimeout(this.timer);
    this.inflight = this.fetchSet().then(
      (ttlMs) => this.loadedOk(ttlMs),
      (error: Error) => this.fetchFailed(error),
    ).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async fetchSet(): Promise<number> {
    const { statusCode, headers, body } = await request(this.uri, {
      headers: { accept: 'application/jwk-set+json, application/json' },
      headersTimeout: this.timing.fetchTimeoutMs,
      bodyTimeout: this.timing.fetchTimeoutMs,
      signal: AbortSignal.timeout(this.timing.fetchTimeoutMs),
    });
    if (statusCode !== 200) {
      await body.dump();
      throw new Error(`JWKS endpoint answered ${statusCode}`);
    }
    const text = await readBounded(body, MAX_JWKS_BYTES);
    this.keys = keysOfJwks(JSON.parse(text));
    return this.ttlOf(headers['cache-control']);
  }

  private ttlOf(cacheControl: string | string[] | undefined): number {
    const maxAge = /(?:^|[,\s])max-age=(\d+)/i.exec(String(cacheControl ?? ''));
    const ttl = maxAge === null ? this.timing.defaultTtlMs : Number(maxAge[1]) * 1000;
    return Math.min(this.timing.maxTtlMs, Math.max(this.timing.minTtlMs, ttl));
  }

  private loadedOk(ttlMs: number): void {
    if (this.lastFetchFailed) this.log.info({ jwksUri: this.uri }, 'JWKS fetched again');
    this.loaded = true;
    this.lastFetchFailed = false;
    this.failures = 0;
    this.schedule(ttlMs * this.timing.refreshAt);
  }

  private fetchFailed(error: Error): void {
    if (!this.lastFetchFailed) {
      const keeping = this.loaded ? 'the last good key set keeps serving' : 'tokens needing it get 503 auth_unavailable';
      this.log.warn({ jwksUri: this.uri, error: error.message }, `JWKS fetch failed; ${keeping}`);
    }
    this.lastFetchFailed = true;
    this.failures++;
    const backoff = this.timing.minIntervalMs * 2 ** (this.failures - 1);
    this.schedule(Math.min(this.timing.maxRetryMs, backoff));
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.refetch(), delayMs);
    this.timer.unref();
  }
}

async function readBounded(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new Error(`JWKS document larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

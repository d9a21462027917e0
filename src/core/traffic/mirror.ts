import type { CounterChild } from '../metrics.js';
import type { EndpointSet } from '../service/endpoint-set.js';
import type { UpstreamHandler } from '../upstream/transport.js';

/** What a mirrored copy carries: the request as it is sent upstream. */
export interface MirroredRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly string[];
  readonly body: Buffer | null;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
}

/**
 * Traffic mirroring (`mirror: { to: v2, percent: 10 }`): a share of requests is copied to an
 * endpoint of another version, fire-and-forget. The copy's answer is read and dropped, its
 * failures are ignored; nothing about it reaches the caller or delays the real request.
 *
 * Only requests whose body is in memory are mirrored — bodiless ones and bodies small enough for
 * the exchange to keep (see `replay-body.ts`): a streamed body can be read once, by the real
 * request. Copies carry `x-sekisho-mirror: 1` so the shadow app can tell them apart. At most
 * `maxInFlight` copies are outstanding; beyond that, copies are skipped rather than queued, so a
 * slow shadow never builds up load.
 *
 * The mirror is its own upstream handler: it keeps no per-copy state, only the count in flight.
 */
export class Mirror implements UpstreamHandler {
  inFlight = 0;

  constructor(
    private readonly target: EndpointSet,
    private readonly percent: number,
    private readonly maxInFlight: number,
    private readonly sent: CounterChild,
    private readonly skipped: CounterChild,
    private readonly random: () => number = Math.random,
  ) {}

  /** Whether this request is one of the share to copy (drawn once per request). */
  selects(): boolean {
    return this.percent >= 100 || this.random() * 100 < this.percent;
  }

  send(request: MirroredRequest): void {
    const endpoint = this.target.pick(undefined, undefined);
    if (endpoint === undefined || this.inFlight >= this.maxInFlight) {
      this.skipped.inc();
      return;
    }
    this.inFlight++;
    this.sent.inc();
    endpoint.transport.dispatch(
      {
        method: request.method,
        path: request.path,
        headers: [...request.headers, 'x-sekisho-mirror', '1'],
        body: request.body,
        headersTimeoutMs: request.timeoutMs,
        bodyTimeoutMs: request.idleTimeoutMs,
      },
      this,
    );
  }

  onConnect(): void {}

  onHeaders(): boolean {
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.inFlight--;
  }

  onError(): void {
    this.inFlight--;
  }
}

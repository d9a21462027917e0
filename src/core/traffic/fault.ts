import type { ServiceConfig } from '../../config/types.js';

/**
 * Fault injection for chaos testing (`fault: { delay, abort }`): a share of requests waits
 * `delay.duration` before going upstream, a share is answered with `abort.status` without
 * contacting the upstream at all. Both draws are independent, per request, in percent.
 *
 * The delay comes before the request's timeout starts (as with Envoy's fault filter in front of
 * its router), so it shows the caller the latency without turning into a 504 here. An abort is a
 * problem document with code `upstream_unavailable`, the configured status and a detail naming
 * fault injection, so it is told apart from a real failure in the access log and by clients.
 */
export class FaultInjector {
  private readonly delayPercent: number;
  readonly delayDurationMs: number;
  private readonly abortPercent: number;
  readonly abortStatus: number;

  constructor(
    config: NonNullable<ServiceConfig['fault']>,
    private readonly random: () => number = Math.random,
  ) {
    this.delayPercent = config.delay?.percent ?? 0;
    this.delayDurationMs = config.delay?.durationMs ?? 0;
    this.abortPercent = config.abort?.percent ?? 0;
    this.abortStatus = config.abort?.status ?? 503;
  }

  /** Whether this request is to be aborted. */
  aborts(): boolean {
    return this.abortPercent > 0 && this.random() * 100 < this.abortPercent;
  }

  /** How long this request is held before going upstream (0 for most). */
  delayMs(): number {
    return this.delayPercent > 0 && this.random() * 100 < this.delayPercent ? this.delayDurationMs : 0;
  }
}

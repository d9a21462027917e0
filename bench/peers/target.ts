/**
 * What every benchmarked thing (a peer proxy, Sekisho, or no proxy at all) looks like to the
 * scenarios: it is started in front of the upstream and then only addressed by URL.
 */
import type { Running } from '../lib/process.js';

/** How a row takes part in the ratios: each proxy is compared with nginx and with the best Node peer. */
export type TargetKind = 'direct' | 'native' | 'node' | 'sekisho';

/** The path every proxy is asked for; it strips `/api` and forwards `/bench`. */
export const PROXIED_PATH = '/api/bench';
/** The only path the upstream answers (anything else is 404), so a wrong strip cannot go unnoticed. */
export const UPSTREAM_PATH = '/bench';
/** The upstream's body size (1 KiB, the figure peers publish). */
export const BODY_BYTES = 1024;

export interface Target {
  /** Row name in the tables, e.g. `nginx`, `node:http + undici`. */
  readonly name: string;
  readonly kind: TargetKind;
  /** Why it cannot run on this machine (a missing binary), or undefined when it can. */
  unavailable(): string | undefined;
  /**
   * Starts it in `dir` (a fresh temp folder for its generated config) in front of the upstream on
   * `upstreamPort`; resolves once it answered the benchmark URL with the upstream's 1 KiB.
   */
  start(upstreamPort: number, dir: string): Promise<StartedTarget>;
}

export interface StartedTarget {
  /** The URL the load generator asks. */
  readonly url: string;
  /** Headers every request to it carries (the mesh's `Host: <service>`). */
  readonly headers?: Record<string, string>;
  /** The proxy process (undefined for `direct`, which has none of its own). */
  readonly proc: Running | undefined;
  stop(): Promise<void>;
}

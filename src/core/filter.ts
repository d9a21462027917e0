import type { RequestContext } from './context.js';
import type { Problem } from './problem.js';

/**
 * The filter contract: one small concern of the request pipeline (routing, CORS, JWT, rate limit,
 * body limit, authorization …), in the order the role assembled them.
 *
 * `onRequest` returns what happens next:
 *   - `undefined`  → continue with the next filter (and, after the last one, forward upstream);
 *   - a `Problem`  → stop; the proxy answers with that problem document (SPEC §6);
 *   - `RESPONDED`  → stop; the filter already wrote the whole response itself (a CORS preflight);
 *   - a Promise of one of these, only when the filter truly has to wait (a JWKS fetch, Redis).
 *     Stay synchronous otherwise: a resolved promise per request is a measurable cost.
 *
 * Filters keep per-request state on the context, never on themselves: one filter instance
 * serves every request of a config generation. Headers a filter wants on the response, whatever
 * the response turns out to be (CORS, RateLimit), go in `ctx.responseHeaders`.
 */
export interface Filter {
  /** Short name for logs and metrics, e.g. `jwt`. */
  readonly name: string;
  onRequest(ctx: RequestContext): FilterResult;
}

export const RESPONDED = Symbol('responded');
export type FilterVerdict = undefined | Problem | typeof RESPONDED;
export type FilterResult = FilterVerdict | Promise<FilterVerdict>;

/** An ordered list of filters, built once per config generation. */
export class Pipeline {
  constructor(
    readonly filters: readonly Filter[],
    /** Releases what the filters hold beyond a request (connections, timers); see `close`. */
    private readonly onClose?: () => void,
  ) {}

  /** Called when the generation owning this pipeline is retired (reload or stop). */
  close(): void {
    this.onClose?.();
  }

  /** Runs the filters from `from` on; synchronous until a filter returns a promise. */
  run(ctx: RequestContext, from = 0): FilterResult {
    const filters = this.filters;
    for (let i = from; i < filters.length; i++) {
      const verdict = filters[i]!.onRequest(ctx);
      if (verdict === undefined) continue;
      if (verdict instanceof Promise) return this.resume(ctx, verdict, i + 1);
      return verdict;
    }
    return undefined;
  }

  private async resume(ctx: RequestContext, pending: Promise<FilterVerdict>, next: number): Promise<FilterVerdict> {
    const verdict = await pending;
    return verdict === undefined ? this.run(ctx, next) : verdict;
  }
}

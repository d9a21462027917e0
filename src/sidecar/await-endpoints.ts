import type { RequestContext } from '../core/context.js';
import type { Filter, FilterResult } from '../core/filter.js';
import type { Route, Runtime } from '../core/runtime.js';

/**
 * The outbound generations of a sidecar, watched: lets a request for a service that has no
 * instance yet wait for the generation that brings one.
 */
export class Generations {
  private waiters: { route: string; resolve: (route: Route | undefined) => void; timer: NodeJS.Timeout }[] = [];

  /** Called after each swap; wakes the requests whose service now has endpoints. */
  swapped(runtime: Runtime): void {
    this.waiters = this.waiters.filter((waiter) => {
      const route = runtime.routes.find((r) => r.name === waiter.route);
      if (route === undefined || route.service.endpoints.length === 0) return true;
      clearTimeout(waiter.timer);
      waiter.resolve(route);
      return false;
    });
  }

  /** The route of a later generation whose service has endpoints, or undefined after `ms`. */
  next(route: string, ms: number): Promise<Route | undefined> {
    return new Promise((resolve) => {
      const waiter = {
        route,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(undefined);
        }, ms),
      };
      this.waiters.push(waiter);
    });
  }
}

/**
 * Outbound filter after routing: a call to a service that has no registered instance yet (its
 * sidecar is still starting) waits up to `waitMs` for one instead of failing at once. The usual
 * case costs one length check.
 */
export function awaitEndpointsFilter(generations: Generations, waitMs: number): Filter {
  return {
    name: 'await-endpoints',
    onRequest(ctx: RequestContext): FilterResult {
      const route = ctx.route!;
      if (route.service.endpoints.length > 0) return undefined;
      return generations.next(route.name, waitMs).then((later) => {
        if (later !== undefined) ctx.route = later;
        return undefined;
      });
    },
  };
}

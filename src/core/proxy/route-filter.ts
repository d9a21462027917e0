import type { RequestContext } from '../context.js';
import type { Filter, FilterVerdict } from '../filter.js';
import { Problem } from '../problem.js';

/**
 * Routing as a pipeline stage: filters before it (CORS preflight) see no route yet, filters
 * after it (auth, limits) read `ctx.route`. No match is a 404 `no_route`.
 */
export const routeFilter: Filter = {
  name: 'route',
  onRequest(ctx: RequestContext): FilterVerdict {
    const route = ctx.runtime.router.match(ctx);
    if (route === undefined) return new Problem('no_route', `no route for ${ctx.method} ${ctx.host || '*'}${ctx.path}`);
    ctx.route = route;
    return undefined;
  },
};

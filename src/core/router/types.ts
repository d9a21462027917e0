import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from '../../config/types.js';

/**
 * What a router looks at. Built once per request by the proxy from the normalized request;
 * routers must not mutate it and should allocate as little as possible while matching.
 */
export interface RouteInput {
  /** Method as received (HTTP methods are case-sensitive; configs hold upper-case names). */
  readonly method: string;
  /** Lower-case host name from `Host`/`:authority`, port removed, `[::1]` brackets kept off. */
  readonly host: string;
  /** The normalized path (SPEC §5), without the query. Always starts with `/`. */
  readonly path: string;
  /** The raw query string without `?`; empty when there is none. */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
}

/** Anything a router can route to: it carries the route's config. */
export interface Routable {
  readonly config: RouteConfig;
}

/**
 * Picks the single route for a request, or `undefined` for none (→ 404 `no_route`).
 *
 * Every implementation gives the same answer for the same routes and input; the shared
 * conformance suite in test/core/router/conformance.ts holds them to it. The order when
 * several routes match is documented in README.md (“Route matching order”):
 *   1. host: exact host > wildcard host (longer suffix first) > no host condition;
 *   2. path: exact `path` > `pathPrefix` (longer first) > `pathRegex` > no path condition;
 *   3. more conditions among methods/headers/query first (each method list, header, query key counts one);
 *   4. the order of the routes in the file.
 */
export interface Router<T extends Routable> {
  match(input: RouteInput): T | undefined;
}

export type RouterFactory = <T extends Routable>(routes: readonly T[]) => Router<T>;

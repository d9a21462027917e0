import { ANY_HOST, parseHostPattern, type HostPattern } from './host.js';
import { compilePathPattern, type PathPattern } from './path.js';
import { compilePredicate, countConditions, type RoutePredicate } from './predicate.js';
import type { Routable } from './types.js';

/**
 * A route compiled for matching, once per entry of its `match.hosts` (or once when it has none):
 * a route listing `a.example.com` and `*.example.com` ranks as an exact-host route for
 * `a.example.com` and as a wildcard route for `b.example.com`. Path pattern and predicate are
 * compiled once per route and shared by its entries.
 */
export interface RouteEntry<T extends Routable> {
  readonly route: T;
  readonly host: HostPattern;
  readonly path: PathPattern;
  /** See `countConditions`. */
  readonly conditions: number;
  readonly predicate: RoutePredicate;
}

/**
 * Every entry of `routes`, in route order (the `Router` contract in types.ts): when several
 * entries match a request, the first one in this order wins.
 *   1. host: exact > wildcard (longer suffix first) > none;
 *   2. path: exact > prefix (longer normalized prefix first) > regex > none;
 *   3. more conditions first;
 *   4. lower `config.index` first, then the position in `routes`.
 * Both routers are built from this one list, which is what keeps their answers identical.
 */
export function orderedEntries<T extends Routable>(routes: readonly T[]): RouteEntry<T>[] {
  // Array#sort is stable, so entries that tie on everything keep their position in `routes`.
  return routes.flatMap(compileEntries).sort(compareEntries);
}

function compileEntries<T extends Routable>(route: T): RouteEntry<T>[] {
  const { match } = route.config;
  const shared = { route, path: compilePathPattern(match), conditions: countConditions(match), predicate: compilePredicate(match) };
  const hosts = match.hosts?.length ? match.hosts.map(parseHostPattern) : [ANY_HOST];
  return hosts.map((host) => ({ ...shared, host }));
}

const HOST_RANK = { exact: 0, wildcard: 1, any: 2 } as const;
const PATH_RANK = { exact: 0, prefix: 1, regex: 2, any: 3 } as const;

function compareEntries<T extends Routable>(a: RouteEntry<T>, b: RouteEntry<T>): number {
  return (
    HOST_RANK[a.host.kind] - HOST_RANK[b.host.kind] ||
    suffixLength(b.host) - suffixLength(a.host) ||
    PATH_RANK[a.path.kind] - PATH_RANK[b.path.kind] ||
    prefixLength(b.path) - prefixLength(a.path) ||
    b.conditions - a.conditions ||
    a.route.config.index - b.route.config.index
  );
}

function suffixLength(host: HostPattern): number {
  return host.kind === 'wildcard' ? host.suffix.length : 0;
}

function prefixLength(path: PathPattern): number {
  return path.kind === 'prefix' ? path.prefix.length : 0;
}

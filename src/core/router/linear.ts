import { orderedEntries } from './entries.js';
import { matchesHost } from './host.js';
import { matchesPath } from './path.js';
import type { Routable, Router, RouterFactory } from './types.js';

/**
 * The reference router: every route entry, in route order, tried one by one; the first whose
 * host, path and conditions all accept the request wins. O(routes) per request, obviously right,
 * and the yardstick the trie router is tested against.
 */
export const createLinearRouter: RouterFactory = <T extends Routable>(routes: readonly T[]): Router<T> => {
  const entries = orderedEntries(routes);
  return {
    match(input) {
      for (const entry of entries) {
        if (matchesHost(entry.host, input.host) && matchesPath(entry.path, input.path) && entry.predicate(input)) {
          return entry.route;
        }
      }
      return undefined;
    },
  };
};

/**
 * Request routing: picks the route for a request (`Router`) and the path to forward
 * (`rewritePath`). Two routers answer identically; `createRouter` is the fast one.
 */
import { createTrieRouter } from './trie.js';

export type { Routable, RouteInput, Router, RouterFactory } from './types.js';
export { createLinearRouter } from './linear.js';
export { createTrieRouter } from './trie.js';
export { rewritePath } from './path.js';

/** The router the proxy uses. */
export const createRouter = createTrieRouter;

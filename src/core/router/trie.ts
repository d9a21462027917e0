import { orderedEntries, type RouteEntry } from './entries.js';
import { matchesWildcard, type HostPattern } from './host.js';
import { matchesPath, matchesPrefix } from './path.js';
import type { Routable, RouteInput, Router, RouterFactory } from './types.js';

/**
 * The fast router. Route entries are indexed by host, then by path:
 *
 *   exact-host map ─┐
 *   wildcard hosts ─┼─► PathIndex: exact-path map → prefix trie (deepest node first)
 *   any host       ─┘              → regex routes → path-less routes
 *
 * A request visits the host buckets and, inside each, the path groups in exactly the order of the
 * route ordering (entries.ts), and each group's list keeps that order, so the first entry whose
 * predicate accepts is the one the linear router would pick. Matching allocates only the path
 * segments it looks up in the trie (and a parsed query, for routes with query conditions).
 */
export const createTrieRouter: RouterFactory = <T extends Routable>(routes: readonly T[]): Router<T> =>
  new TrieRouter(routes);

interface WildcardBucket<T extends Routable> {
  /** `.example.com` for `*.example.com`. */
  readonly suffix: string;
  readonly paths: PathIndex<T>;
}

class TrieRouter<T extends Routable> implements Router<T> {
  private readonly exactHosts = new Map<string, PathIndex<T>>();
  /** Longest suffix first: entries arrive in route order, which ranks longer suffixes first. */
  private readonly wildcardHosts: WildcardBucket<T>[] = [];
  private readonly anyHost = new PathIndex<T>();

  constructor(routes: readonly T[]) {
    for (const entry of orderedEntries(routes)) this.bucketFor(entry.host).add(entry);
  }

  match(input: RouteInput): T | undefined {
    const exact = this.exactHosts.get(input.host)?.match(input);
    if (exact !== undefined) return exact;
    for (const bucket of this.wildcardHosts) {
      if (!matchesWildcard(bucket.suffix, input.host)) continue;
      const found = bucket.paths.match(input);
      if (found !== undefined) return found;
    }
    return this.anyHost.match(input);
  }

  private bucketFor(host: HostPattern): PathIndex<T> {
    switch (host.kind) {
      case 'exact':
        return getOrAdd(this.exactHosts, host.host, () => new PathIndex<T>());
      case 'wildcard': {
        let bucket = this.wildcardHosts.find((b) => b.suffix === host.suffix);
        if (bucket === undefined) {
          bucket = { suffix: host.suffix, paths: new PathIndex<T>() };
          this.wildcardHosts.push(bucket);
        }
        return bucket.paths;
      }
      case 'any':
        return this.anyHost;
    }
  }
}

/** The entries of one host bucket, grouped by kind of path condition, each group in route order. */
class PathIndex<T extends Routable> {
  private readonly exact = new Map<string, RouteEntry<T>[]>();
  private readonly prefixes = new PrefixTrie<T>();
  private readonly regex: RouteEntry<T>[] = [];
  private readonly any: RouteEntry<T>[] = [];

  /** Entries must be added in route order. */
  add(entry: RouteEntry<T>): void {
    const { path } = entry;
    switch (path.kind) {
      case 'exact':
        getOrAdd(this.exact, path.path, () => []).push(entry);
        break;
      case 'prefix':
        this.prefixes.add(path.prefix, entry);
        break;
      case 'regex':
        this.regex.push(entry);
        break;
      case 'any':
        this.any.push(entry);
        break;
    }
  }

  match(input: RouteInput): T | undefined {
    const exact = this.exact.get(input.path);
    return (
      (exact && firstAccepted(exact, input)) ??
      this.prefixes.match(input) ??
      firstRegexAccepted(this.regex, input) ??
      firstAccepted(this.any, input)
    );
  }
}

interface TrieNode<T extends Routable> {
  readonly parent: TrieNode<T> | undefined;
  /** Keyed by the next path segment, without slashes. */
  readonly children: Map<string, TrieNode<T>>;
  /** Entries whose normalized prefix ends at this node, in route order. */
  readonly entries: RouteEntry<T>[];
}

/**
 * Prefix routes by path segment. The root stands for the prefix `''` (configured as `/`), its
 * child `api` for `/api`, and so on; a node matches exactly the paths `matchesPrefix` accepts for
 * its prefix, so walking the request path down the trie finds every matching prefix, and walking
 * back up through `parent` visits them longest first.
 */
class PrefixTrie<T extends Routable> {
  private readonly root = newNode<T>(undefined);

  /** `prefix` is normalized (see `normalizePrefix`): `''` or `/a/b`, no trailing slash. */
  add(prefix: string, entry: RouteEntry<T>): void {
    let node = this.root;
    for (const segment of prefix.split('/').slice(1)) {
      node = getOrAdd(node.children, segment, () => newNode(node));
    }
    node.entries.push(entry);
  }

  match(input: RouteInput): T | undefined {
    for (let node = this.deepestNode(input.path); node !== undefined; node = node.parent) {
      const found = firstAccepted(node.entries, input);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** The node of the longest prefix in the trie that covers `path`, walking segment by segment. */
  private deepestNode(path: string): TrieNode<T> | undefined {
    if (!matchesPrefix('', path)) return undefined;
    let node = this.root;
    // Invariant: path[0, end) is the node's prefix, followed by `/` or the end of the path.
    let end = 0;
    while (end < path.length && node.children.size > 0) {
      const slash = path.indexOf('/', end + 1);
      const segmentEnd = slash === -1 ? path.length : slash;
      const child = node.children.get(path.slice(end + 1, segmentEnd));
      if (child === undefined) break;
      node = child;
      end = segmentEnd;
    }
    return node;
  }
}

function newNode<T extends Routable>(parent: TrieNode<T> | undefined): TrieNode<T> {
  return { parent, children: new Map(), entries: [] };
}

/** The first route whose predicate accepts the input; its path is already known to match. */
function firstAccepted<T extends Routable>(entries: readonly RouteEntry<T>[], input: RouteInput): T | undefined {
  for (const entry of entries) {
    if (entry.predicate(input)) return entry.route;
  }
  return undefined;
}

/** The first route whose path regex and predicate both accept the input. */
function firstRegexAccepted<T extends Routable>(entries: readonly RouteEntry<T>[], input: RouteInput): T | undefined {
  for (const entry of entries) {
    if (matchesPath(entry.path, input.path) && entry.predicate(input)) return entry.route;
  }
  return undefined;
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

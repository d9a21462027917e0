import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig, RouteMatchConfig, ValueMatch } from '../../../src/config/types.js';
import type { RouteInput } from '../../../src/core/router/index.js';
import { route } from './helpers.js';

/**
 * Seeded random route sets and requests over a small vocabulary, so that generated requests hit
 * many routes at once and every ordering rule gets exercised.
 */

/** mulberry32: a tiny deterministic PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;

function pick<V>(random: Random, values: readonly V[]): V {
  return values[Math.floor(random() * values.length)]!;
}

function chance(random: Random, probability: number): boolean {
  return random() < probability;
}

const HOSTS = ['example.com', 'api.example.com', 'a.api.example.com', 'b.a.api.example.com', 'shop.test', 'other.org'];
const HOST_PATTERNS = ['example.com', 'api.example.com', 'a.api.example.com', 'shop.test', '*.example.com', '*.api.example.com', '*.test'];
const SEGMENTS = ['api', 'v1', 'users', '42', 'docs', 'uploads', 'upload'];
const PATH_REGEXES = ['/api/.*', '/users/[0-9]+', '.*/42', '/(docs|api)(/.*)?', '/v1/[a-z]+/.*'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const HEADER_VALUES = ['1', '2', 'v1', 'v12', 'a b'];
const HEADER_MATCHES: readonly ValueMatch[] = [
  { exact: '1' },
  { exact: 'v1' },
  { regex: 'v[0-9]+' },
  { regex: '1|2' },
  { present: true },
  { present: false },
];
const QUERY_VALUES = ['a+b', 'a%20b', 'a%2Bb', '42', '42x', '', 'v1'];
const QUERY_MATCHES: readonly ValueMatch[] = [{ exact: 'a b' }, { exact: '42' }, { regex: '[0-9]+' }, { present: true }, { present: false }];

function randomPath(random: Random, maxDepth: number): string {
  const depth = Math.floor(random() * (maxDepth + 1));
  const segments = Array.from({ length: depth }, () => pick(random, SEGMENTS));
  return `/${segments.join('/')}`;
}

function randomMatch(random: Random): RouteMatchConfig {
  const kind = pick(random, ['path', 'prefix', 'prefix', 'regex', 'none'] as const);
  const match: { -readonly [K in keyof RouteMatchConfig]: RouteMatchConfig[K] } = {};
  if (kind === 'path') match.path = randomPath(random, 3);
  if (kind === 'prefix') match.pathPrefix = randomPath(random, 3) + (chance(random, 0.2) ? '/' : '');
  if (kind === 'regex') match.pathRegex = pick(random, PATH_REGEXES);
  if (chance(random, 0.5)) match.hosts = Array.from({ length: 1 + Math.floor(random() * 2) }, () => pick(random, HOST_PATTERNS));
  if (chance(random, 0.3)) match.methods = METHODS.filter(() => chance(random, 0.5));
  if (chance(random, 0.3)) match.headers = randomConditions(random, ['x-a', 'x-b'], HEADER_MATCHES);
  if (chance(random, 0.2)) match.query = randomConditions(random, ['q', 'id'], QUERY_MATCHES);
  return match;
}

function randomConditions(random: Random, names: readonly string[], matches: readonly ValueMatch[]): Record<string, ValueMatch> {
  return Object.fromEntries(names.filter(() => chance(random, 0.6)).map((name) => [name, pick(random, matches)]));
}

/** `count` routes; indexes are positions except for a few duplicates, to exercise the last tie-breaker. */
export function randomRoutes(random: Random, count: number): RouteConfig[] {
  return Array.from({ length: count }, (_, i) =>
    route({ name: `r${i}`, index: chance(random, 0.05) ? Math.max(0, i - 1) : i, match: randomMatch(random) }),
  );
}

export function randomInput(random: Random): RouteInput {
  const headers: IncomingHttpHeaders = {};
  for (const name of ['x-a', 'x-b']) {
    if (chance(random, 0.2)) headers[name] = [pick(random, HEADER_VALUES), pick(random, HEADER_VALUES)];
    else if (chance(random, 0.5)) headers[name] = pick(random, HEADER_VALUES);
  }
  const pairs = ['q', 'id', 'q'].filter(() => chance(random, 0.4)).map((key) => `${key}=${pick(random, QUERY_VALUES)}`);
  return {
    method: pick(random, METHODS),
    host: pick(random, HOSTS),
    path: randomPath(random, 4) + (chance(random, 0.1) ? '/' : ''),
    query: pairs.join('&'),
    headers,
  };
}

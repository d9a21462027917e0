import type { RouteConfig, RouteMatchConfig } from '../../config/types.js';
import { compileFullMatch } from './regex.js';

/**
 * A route's path condition, compiled.
 * - `exact`: the request path equals `path`, byte for byte (`/users` does not match `/users/`).
 * - `prefix`: segment-aware prefix, Envoy's `path_separated_prefix`: `/api/upload` matches
 *   `/api/upload`, `/api/upload/` and `/api/upload/x`, never `/api/uploads`. Trailing slashes of
 *   the configured prefix are ignored, so `/api/` behaves exactly like `/api` (it matches `/api`
 *   too, and ranks as the same length). `prefix` holds that normalized form; `/` becomes `''`,
 *   which matches every path.
 * - `regex`: full match of the path (see `compileFullMatch`).
 * - `any`: the route has no path condition.
 */
export type PathPattern =
  | { readonly kind: 'exact'; readonly path: string }
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'regex'; readonly regex: RegExp }
  | { readonly kind: 'any' };

const SLASH = 0x2f;

/** Throws for a `pathPrefix` not starting with `/` or an invalid `pathRegex`. */
export function compilePathPattern(match: RouteMatchConfig): PathPattern {
  if (match.path !== undefined) return { kind: 'exact', path: match.path };
  if (match.pathPrefix !== undefined) {
    if (!match.pathPrefix.startsWith('/')) throw new Error(`pathPrefix must start with "/": ${match.pathPrefix}`);
    return { kind: 'prefix', prefix: normalizePrefix(match.pathPrefix) };
  }
  if (match.pathRegex !== undefined) return { kind: 'regex', regex: compileFullMatch(match.pathRegex) };
  return { kind: 'any' };
}

export function matchesPath(pattern: PathPattern, path: string): boolean {
  switch (pattern.kind) {
    case 'exact':
      return path === pattern.path;
    case 'prefix':
      return matchesPrefix(pattern.prefix, path);
    case 'regex':
      return pattern.regex.test(path);
    case 'any':
      return true;
  }
}

/** `/api/` → `/api`, `/` → `''`: the form `matchesPrefix` expects. */
export function normalizePrefix(prefix: string): string {
  return prefix.replace(/\/+$/, '');
}

/**
 * Whether a normalized prefix covers `path` on a segment boundary: the path is the prefix itself
 * or continues it with `/`.
 */
export function matchesPrefix(prefix: string, path: string): boolean {
  return path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === SLASH);
}

/**
 * The path to forward upstream for a request `path` that matched `route`. Steps, in order:
 * 1. `stripPrefix` (trailing slashes ignored, segment-aware): stripping `/api` turns
 *    `/api/billing/x` into `/billing/x` and `/api` or `/api/` into `/`; a path it does not cover
 *    (`/apix`) is left alone.
 * 2. `rewrite.prefix` replaces the part of the path the route matched, as it stands after step 1:
 *    the `pathPrefix` (`/old` + `/new` turns `/old/x` into `/new/x`), the whole `path` of an exact
 *    route, or nothing for regex and path-less routes (the prefix is prepended). The rest of the
 *    path is kept as it is, joined with one `/` (`/new/` + `/x` is `/new/x`; `/old/` becomes
 *    `/new/`).
 * 3. `rewrite.regex` + `replacement`: the first match is replaced (`$1`, `$<name>` allowed); the
 *    regex is not anchored.
 * The result always starts with `/`. Routes without `stripPrefix` and `rewrite` get `path` back
 * untouched.
 */
export function rewritePath(route: RouteConfig, path: string): string {
  if (route.stripPrefix === undefined && route.rewrite === undefined) return path;
  let rewriter = rewriters.get(route);
  if (rewriter === undefined) {
    rewriter = compileRewriter(route);
    rewriters.set(route, rewriter);
  }
  return rewriter(path);
}

type PathRewriter = (path: string) => string;

// Route configs are frozen, so their compiled rewriters are kept beside them rather than on them.
const rewriters = new WeakMap<RouteConfig, PathRewriter>();

function compileRewriter(route: RouteConfig): PathRewriter {
  const steps: PathRewriter[] = [];
  const strip = route.stripPrefix === undefined ? undefined : normalizePrefix(route.stripPrefix);
  if (strip !== undefined) steps.push((path) => stripPrefix(strip, path));
  const { prefix, regex, replacement = '' } = route.rewrite ?? {};
  if (prefix !== undefined) {
    const matched = matchedPart(route.match, strip);
    steps.push((path) => replacePrefix(matched, prefix, path));
  }
  if (regex !== undefined) {
    const pattern = new RegExp(regex);
    steps.push((path) => withLeadingSlash(path.replace(pattern, replacement)));
  }
  return (path) => steps.reduce((current, step) => step(current), path);
}

function stripPrefix(prefix: string, path: string): string {
  if (!matchesPrefix(prefix, path)) return path;
  return path.length === prefix.length ? '/' : path.slice(prefix.length);
}

/** What `rewrite.prefix` replaces, after the route's `stripPrefix` has been applied to it. */
function matchedPart(match: RouteMatchConfig, strip: string | undefined): string {
  const stripped = (path: string) => (strip === undefined ? path : stripPrefix(strip, path));
  if (match.path !== undefined) return stripped(match.path);
  if (match.pathPrefix !== undefined) return normalizePrefix(stripped(normalizePrefix(match.pathPrefix)));
  return '';
}

function replacePrefix(matched: string, replacement: string, path: string): string {
  if (!matchesPrefix(matched, path)) return path;
  const rest = path.slice(matched.length);
  const head = replacement.endsWith('/') && rest.startsWith('/') ? replacement.slice(0, -1) : replacement;
  return withLeadingSlash(head + rest);
}

function withLeadingSlash(path: string): string {
  return path.charCodeAt(0) === SLASH ? path : `/${path}`;
}

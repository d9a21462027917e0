import type { RouteConfig, RouteMatchConfig, ValueMatch } from '../../../src/config/types.js';
import type { RouteInput } from '../../../src/core/router/index.js';

/**
 * A brute-force router written straight from the documented rules, sharing no code with the
 * implementations: every (route, host pattern) pair that matches is ranked by a key, the smallest
 * key wins. Slow and plain on purpose.
 */
export function oracleMatch(routes: readonly RouteConfig[], input: RouteInput): RouteConfig | undefined {
  let best: { route: RouteConfig; key: number[] } | undefined;
  routes.forEach((route, position) => {
    const { match } = route;
    if (!pathMatches(match, input.path) || !conditionsMatch(match, input)) return;
    for (const host of match.hosts?.length ? match.hosts : [undefined]) {
      if (!hostMatches(host, input.host)) continue;
      const key = [...hostKey(host), ...pathKey(match), -conditionCount(match), route.index, position];
      if (best === undefined || lessThan(key, best.key)) best = { route, key };
    }
  });
  return best?.route;
}

function hostMatches(pattern: string | undefined, host: string): boolean {
  if (pattern === undefined) return true;
  if (!pattern.startsWith('*.')) return pattern === host;
  const labels = host.split('.');
  const suffix = pattern.slice(2).split('.');
  return labels.length > suffix.length && labels.slice(-suffix.length).join('.') === suffix.join('.');
}

function pathMatches(match: RouteMatchConfig, path: string): boolean {
  if (match.path !== undefined) return path === match.path;
  if (match.pathPrefix !== undefined) {
    const prefix = trimSlashes(match.pathPrefix);
    return path === prefix || path.startsWith(`${prefix}/`);
  }
  if (match.pathRegex !== undefined) return wholeMatch(match.pathRegex, path);
  return true;
}

function conditionsMatch(match: RouteMatchConfig, input: RouteInput): boolean {
  if (match.methods?.length && !match.methods.includes(input.method)) return false;
  const query = new URLSearchParams(input.query);
  const headersOk = Object.entries(match.headers ?? {}).every(([name, condition]) => {
    const value = input.headers[name];
    return valueMatches(condition, value === undefined ? [] : ([] as string[]).concat(value));
  });
  const queryOk = Object.entries(match.query ?? {}).every(([name, condition]) => valueMatches(condition, query.getAll(name)));
  return headersOk && queryOk;
}

function valueMatches(condition: ValueMatch, values: readonly string[]): boolean {
  if (condition.exact !== undefined) return values.includes(condition.exact);
  if (condition.regex !== undefined) return values.some((value) => wholeMatch(condition.regex!, value));
  return (values.length > 0) === (condition.present ?? true);
}

/** The documented rule: the regex must match the whole value. */
function wholeMatch(source: string, value: string): boolean {
  return new RegExp(`^(?:${source})$`).test(value);
}

function hostKey(pattern: string | undefined): number[] {
  if (pattern === undefined) return [2, 0];
  return pattern.startsWith('*.') ? [1, -(pattern.length - 1)] : [0, 0];
}

function pathKey(match: RouteMatchConfig): number[] {
  if (match.path !== undefined) return [0, 0];
  if (match.pathPrefix !== undefined) return [1, -trimSlashes(match.pathPrefix).length];
  if (match.pathRegex !== undefined) return [2, 0];
  return [3, 0];
}

function conditionCount(match: RouteMatchConfig): number {
  return (match.methods?.length ? 1 : 0) + Object.keys(match.headers ?? {}).length + Object.keys(match.query ?? {}).length;
}

function trimSlashes(prefix: string): string {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === '/') end--;
  return prefix.slice(0, end);
}

function lessThan(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]!;
  }
  return false;
}

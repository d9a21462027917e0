import type { RouteMatchConfig, ValueMatch } from '../../config/types.js';
import { compileFullMatch } from './regex.js';
import type { RouteInput } from './types.js';

/**
 * A route's non-path conditions — `methods`, `headers`, `query` — compiled once into a check.
 * Host and path are not part of it: the routers index routes by those.
 *
 * Semantics:
 * - `methods`: the request method must be one of them, compared case-sensitively. An empty list
 *   is no condition.
 * - `headers` / `query`: every listed name must satisfy its `ValueMatch`:
 *   - `exact`: equal to the value, case-sensitively;
 *   - `regex`: full match of the value (see `compileFullMatch`);
 *   - `present: true`: the name is there, whatever its value (empty included);
 *   - `present: false`: the name is absent.
 *   A name with several values (a header Node gives as an array, a repeated query key) matches
 *   when any one value does. Node joins most repeated request headers into one `a, b` string;
 *   that string is matched as a whole.
 * - Query keys and values are decoded as `application/x-www-form-urlencoded` (`+` is a space,
 *   percent-escapes decoded), so `{ q: 'a b' }` matches `q=a+b` and `q=a%20b`. The query is only
 *   parsed for routes that have query conditions.
 */
export type RoutePredicate = (input: RouteInput) => boolean;

/** The values a header or query name has in a request: one, several, or none. */
type Values = string | readonly string[] | undefined;

interface Condition {
  readonly name: string;
  readonly test: (values: Values) => boolean;
}

const acceptAll: RoutePredicate = () => true;

export function compilePredicate(match: RouteMatchConfig): RoutePredicate {
  const methods = match.methods?.length ? new Set(match.methods) : undefined;
  const headers = compileConditions(match.headers);
  const query = compileConditions(match.query);
  if (methods === undefined && headers.length === 0 && query.length === 0) return acceptAll;
  return (input) =>
    (methods === undefined || methods.has(input.method)) &&
    headersMatch(headers, input) &&
    (query.length === 0 || queryMatches(query, input.query));
}

/**
 * How specific a route's non-path conditions are, for ordering: a non-empty method list counts
 * one, each header and each query key counts one.
 */
export function countConditions(match: RouteMatchConfig): number {
  const methods = match.methods?.length ? 1 : 0;
  return methods + Object.keys(match.headers ?? {}).length + Object.keys(match.query ?? {}).length;
}

function compileConditions(matches: Readonly<Record<string, ValueMatch>> | undefined): Condition[] {
  return Object.entries(matches ?? {}).map(([name, match]) => ({ name, test: compileValueMatch(match) }));
}

function compileValueMatch(match: ValueMatch): (values: Values) => boolean {
  if (match.exact !== undefined) {
    const exact = match.exact;
    return (values) => someValue(values, (value) => value === exact);
  }
  if (match.regex !== undefined) {
    const regex = compileFullMatch(match.regex);
    return (values) => someValue(values, (value) => regex.test(value));
  }
  const present = match.present ?? true;
  return (values) => (values !== undefined) === present;
}

function someValue(values: Values, test: (value: string) => boolean): boolean {
  if (values === undefined) return false;
  return typeof values === 'string' ? test(values) : values.some(test);
}

function headersMatch(conditions: readonly Condition[], input: RouteInput): boolean {
  for (const condition of conditions) {
    if (!condition.test(input.headers[condition.name])) return false;
  }
  return true;
}

function queryMatches(conditions: readonly Condition[], query: string): boolean {
  const values = parsedQuery(query);
  for (const condition of conditions) {
    if (!condition.test(values.get(condition.name))) return false;
  }
  return true;
}

// One request is tried against route after route, so the last parse is remembered: a query is
// parsed once per request however many routes have query conditions. Parsing depends on the
// string alone, which makes the string a complete cache key.
let lastQuery: string | undefined;
let lastValues: ReadonlyMap<string, readonly string[]> = new Map();

function parsedQuery(query: string): ReadonlyMap<string, readonly string[]> {
  if (query !== lastQuery) {
    lastValues = parseQuery(query);
    lastQuery = query;
  }
  return lastValues;
}

function parseQuery(query: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(query)) {
    const list = values.get(key);
    if (list === undefined) values.set(key, [value]);
    else list.push(value);
  }
  return values;
}

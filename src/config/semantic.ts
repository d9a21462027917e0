import { closestMatch, formatKeyPath, type Issue, type KeyPath } from './issue.js';
import { parseListen } from './units.js';

/**
 * The checks that relate several values, which a JSON schema can not express: routes and the
 * services they name, route names, path matchers and prefixes, traffic weights, key sources,
 * admin exposure.
 *
 * They run on the plain data even when the schema found problems, so that one run reports
 * everything. Hence the defensive reads: a value of the wrong shape was already reported by the
 * schema and is skipped here.
 */
export function checkSemantics(data: unknown): Issue[] {
  const root = asRecord(data);
  const gateway = asRecord(root?.gateway);
  const services = asRecord(root?.services) ?? {};
  return [
    ...checkAdminExposure(asRecord(root?.controlPlane), ['controlPlane'], 'listen'),
    ...checkAdminExposure(gateway, ['gateway'], 'admin'),
    ...checkJwtKeySource(gateway),
    ...checkRoutes(gateway, services, root?.controlPlane !== undefined),
    ...checkTrafficWeights(services),
  ];
}

type Fields = Record<string, unknown>;

function asRecord(value: unknown): Fields | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** SPEC §5: an admin API bound beyond loopback must be protected by its section's `adminToken`. */
function checkAdminExposure(section: Fields | undefined, path: KeyPath, key: string): Issue[] {
  const address = section?.[key];
  if (section?.adminToken !== undefined || (typeof address !== 'string' && typeof address !== 'number')) return [];
  let host: string;
  try {
    host = parseListen(address).host;
  } catch {
    return []; // reported by the schema
  }
  if (isLoopback(host)) return [];
  const token = formatKeyPath([...path, 'adminToken']);
  return [{ path: [...path, key], message: `an admin API on ${host} is reachable beyond this machine: set ${token}` }];
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function checkJwtKeySource(gateway: Fields | undefined): Issue[] {
  const jwt = asRecord(asRecord(gateway?.auth)?.jwt);
  if (jwt === undefined || jwt.jwksUri !== undefined || jwt.keys !== undefined || jwt.secret !== undefined) return [];
  return [{ path: ['gateway', 'auth', 'jwt'], message: 'needs a key source: jwksUri, keys or secret' }];
}

/** What route checks need to know beyond the route itself. */
interface RouteContext {
  readonly services: Fields;
  /** A control plane whose registry may know services this file does not declare. */
  readonly hasRegistry: boolean;
  readonly authConfigured: boolean;
}

function checkRoutes(gateway: Fields | undefined, services: Fields, hasRegistry: boolean): Issue[] {
  const routes = asList(gateway?.routes);
  const context: RouteContext = { services, hasRegistry, authConfigured: gateway?.auth !== undefined };
  return [
    ...checkRouteNamesUnique(routes),
    ...routes.flatMap((value, index) => {
      const route = asRecord(value);
      if (route === undefined) return [];
      const path = ['gateway', 'routes', index];
      return [
        ...checkRouteService(route, path, context),
        ...checkPathMatchers(route, path),
        ...checkStripPrefix(route, path),
        ...checkRewrite(route, path),
        ...checkRouteAuth(route, path, context),
      ];
    }),
  ];
}

function checkRouteNamesUnique(routes: unknown[]): Issue[] {
  const issues: Issue[] = [];
  const firstIndex = new Map<string, number>();
  routes.forEach((route, index) => {
    const name = asString(asRecord(route)?.name);
    if (name === undefined) return;
    const first = firstIndex.get(name);
    if (first === undefined) {
      firstIndex.set(name, index);
      return;
    }
    const message = `duplicate route name "${name}" (also gateway.routes[${first}])`;
    issues.push({ path: ['gateway', 'routes', index, 'name'], message });
  });
  return issues;
}

/**
 * Without a control plane, a route can only reach the services this file declares. With one,
 * a service may also be known only to the registry, where sidecars from other machines register
 * it (SPEC §3's own example routes to `upload`, declared nowhere).
 */
function checkRouteService(route: Fields, path: KeyPath, { services, hasRegistry }: RouteContext): Issue[] {
  const service = asString(route.service);
  if (hasRegistry || service === undefined || Object.hasOwn(services, service)) return [];
  const suggestion = closestMatch(service, Object.keys(services));
  const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
  return [{ path: [...path, 'service'], message: `no service "${service}" in services${hint}` }];
}

const PATH_MATCHERS = ['path', 'pathPrefix', 'pathRegex'] as const;

function checkPathMatchers(route: Fields, path: KeyPath): Issue[] {
  const match = asRecord(route.match) ?? {};
  const used = PATH_MATCHERS.filter((key) => match[key] !== undefined);
  if (used.length < 2) return [];
  const listed = `${used.slice(0, -1).join(', ')} and ${used.at(-1)}`;
  return [{ path: [...path, 'match'], message: `sets ${listed}: use only one of path, pathPrefix, pathRegex` }];
}

/**
 * A `stripPrefix` that does not cover the route's literal path would never strip anything:
 * certainly a typo. Prefixes compare on segment boundaries with trailing slashes ignored, as the
 * router does (`/api` covers `/api/x`, not `/apix`).
 */
function checkStripPrefix(route: Fields, path: KeyPath): Issue[] {
  const strip = asString(route.stripPrefix);
  const match = asRecord(route.match) ?? {};
  const matcher = match.pathPrefix !== undefined ? 'pathPrefix' : 'path';
  const literal = asString(match[matcher]);
  if (strip === undefined || literal === undefined || !strip.startsWith('/') || coversPath(strip, literal)) return [];
  return [{ path: [...path, 'stripPrefix'], message: `"${strip}" is not a prefix of ${matcher} "${literal}"` }];
}

function coversPath(prefix: string, path: string): boolean {
  const base = prefix.replace(/\/+$/, '');
  const target = path.replace(/\/+$/, '');
  return target === base || target.startsWith(`${base}/`);
}

function checkRewrite(route: Fields, path: KeyPath): Issue[] {
  const rewrite = asRecord(route.rewrite);
  if (rewrite === undefined) return [];
  const [prefix, regex, replacement] = [rewrite.prefix, rewrite.regex, rewrite.replacement].map((v) => v !== undefined);
  const byPrefix = prefix && !regex && !replacement;
  const byRegex = !prefix && regex && replacement;
  if (byPrefix || byRegex) return [];
  return [{ path: [...path, 'rewrite'], message: 'must be { prefix } or { regex, replacement }' }];
}

function checkRouteAuth(route: Fields, path: KeyPath, { authConfigured }: RouteContext): Issue[] {
  if (route.auth !== 'required' || authConfigured) return [];
  return [{ path: [...path, 'auth'], message: '"required" needs gateway.auth to be configured' }];
}

function checkTrafficWeights(services: Fields): Issue[] {
  const issues: Issue[] = [];
  for (const [name, value] of Object.entries(services)) {
    asList(asRecord(value)?.traffic).forEach((rule, index) => {
      const weights = Object.values(asRecord(asRecord(rule)?.to) ?? {});
      if (weights.length === 0 || weights.some((weight) => weight !== 0)) return;
      issues.push({ path: ['services', name, 'traffic', index, 'to'], message: 'all weights are 0: no version would get traffic' });
    });
  }
  return issues;
}

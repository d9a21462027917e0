import { resolve } from 'node:path';
import type {
  RawControlPlane,
  RawCors,
  RawFile,
  RawGateway,
  RawJwt,
  RawLimits,
  RawRoute,
  RawRouteMatch,
  RawService,
  RawValueMatch,
} from './raw.js';
import type {
  ControlPlaneConfig,
  CorsConfig,
  GatewayConfig,
  JwtConfig,
  ListenerLimits,
  OutlierDetectionConfig,
  RateLimitConfig,
  RetryConfig,
  RouteConfig,
  RouteMatchConfig,
  RunEntry,
  SekishoConfig,
  ServiceConfig,
  ServiceEndpoint,
  TrafficRule,
  ValueMatch,
} from './types.js';
import { parseBackoff, parseDuration, parseEndpointUrl, parseListen, parsePercent, parseRate, parseSize } from './units.js';

/**
 * Turns a validated file into the `SekishoConfig` every component reads: defaults applied (here
 * and nowhere else), notations parsed, names in canonical case, relative paths made absolute
 * against the config file's folder, and the whole tree frozen.
 *
 * The input has passed the schema and the semantic checks, so nothing here can fail on user input.
 */
export function buildConfig(raw: RawFile, file: string, baseDir: string): SekishoConfig {
  const fromFile: PathResolver = (path) => resolve(baseDir, path);
  return finalize({
    file,
    mesh: {
      name: raw.mesh?.name ?? 'sekisho',
      defaultAuthorization: raw.mesh?.defaultAuthorization ?? 'authenticated',
    },
    controlPlane: ifDefined(raw.controlPlane, (cp) => controlPlaneConfig(cp ?? {}, fromFile)),
    gateway: ifDefined(raw.gateway, (gateway) => gatewayConfig(gateway ?? {}, fromFile)),
    services: mapValues(raw.services ?? {}, (service, name) => serviceConfig(name, service ?? {}, fromFile)),
  });
}

type PathResolver = (path: string) => string;

function controlPlaneConfig(raw: RawControlPlane, fromFile: PathResolver): ControlPlaneConfig {
  const store = raw.store ?? 'memory';
  return {
    listen: parseListen(raw.listen ?? '127.0.0.1:15000'),
    xds: parseListen(raw.xds ?? '127.0.0.1:15012'),
    store: store.startsWith('file:') ? `file:${fromFile(store.slice('file:'.length))}` : store,
    joinToken: raw.joinToken,
    adminToken: raw.adminToken,
    ca: {
      certTTLMs: parseDuration(raw.ca?.certTTL ?? '24h'),
      cert: ifDefined(raw.ca?.cert, fromFile),
      key: ifDefined(raw.ca?.key, fromFile),
    },
  };
}

function gatewayConfig(raw: RawGateway, fromFile: PathResolver): GatewayConfig {
  const authConfigured = raw.auth !== undefined;
  return {
    name: raw.name ?? 'gateway',
    listen: parseListen(raw.listen ?? '0.0.0.0:8080'),
    admin: parseListen(raw.admin ?? '127.0.0.1:15090'),
    adminToken: raw.adminToken,
    tls: ifDefined(raw.tls, (tls) => ({ cert: fromFile(tls.cert), key: fromFile(tls.key) })),
    trustedProxies: raw.trustedProxies ?? [],
    maxBodySize: ifDefined(raw.maxBodySize, parseSize),
    cors: ifDefined(raw.cors, corsConfig),
    auth: ifDefined(raw.auth, (auth) => ({ jwt: jwtConfig(auth.jwt, fromFile) })),
    rateLimit: ifDefined(raw.rateLimit, (limit): RateLimitConfig => {
      const rate = parseRate(limit.limit);
      return {
        by: rateLimitKey(limit.by ?? 'ip'),
        limit: rate,
        burst: limit.burst ?? rate.count,
        store: limit.store ?? 'memory',
        failOpen: limit.failOpen ?? true,
      };
    }),
    limits: limitsConfig(raw.limits ?? {}),
    routes: (raw.routes ?? []).map((route, index) => routeConfig(route, index, authConfigured)),
  };
}

function corsConfig(raw: RawCors): CorsConfig {
  return {
    allowOrigins: raw.allowOrigins,
    allowMethods: upperCase(raw.allowMethods ?? ['GET', 'HEAD', 'POST']),
    allowHeaders: lowerCase(raw.allowHeaders ?? []),
    exposeHeaders: lowerCase(raw.exposeHeaders ?? []),
    allowCredentials: raw.allowCredentials ?? false,
    maxAgeMs: ifDefined(raw.maxAge, parseDuration),
  };
}

function jwtConfig(raw: RawJwt, fromFile: PathResolver): JwtConfig {
  return {
    issuer: raw.issuer,
    audience: raw.audience === undefined ? [] : [raw.audience].flat(),
    jwksUri: raw.jwksUri,
    keys: (raw.keys ?? []).map((key) => ({ file: fromFile(key.file) })),
    secret: raw.secret,
    algorithms: raw.algorithms ?? defaultAlgorithms(raw),
    clockSkewMs: parseDuration(raw.clockSkew ?? '30s'),
    forwardClaims: mapValues(raw.forwardClaims ?? {}, (header) => header.toLowerCase()),
  };
}

/**
 * RS256 and ES256 for public keys, HS256 for a shared secret: a secret-only config defaulting to
 * RS256/ES256 alone would reject every token.
 */
function defaultAlgorithms(raw: RawJwt): string[] {
  const publicKeys = raw.jwksUri !== undefined || raw.keys !== undefined ? ['RS256', 'ES256'] : [];
  return raw.secret === undefined ? publicKeys : [...publicKeys, 'HS256'];
}

/** Node gives request header names in lower case, so `header:X-Api-Key` is kept lower-case. */
function rateLimitKey(by: string): string {
  return by.startsWith('header:') ? by.toLowerCase() : by;
}

function limitsConfig(raw: RawLimits): ListenerLimits {
  return {
    headersTimeoutMs: parseDuration(raw.headersTimeout ?? '10s'),
    requestTimeoutMs: parseDuration(raw.requestTimeout ?? '0s'),
    keepAliveTimeoutMs: parseDuration(raw.keepAliveTimeout ?? '65s'),
    maxHeaderSize: parseSize(raw.maxHeaderSize ?? '16kb'),
    maxHeaderCount: raw.maxHeaderCount ?? 100,
    drainTimeoutMs: parseDuration(raw.drainTimeout ?? '30s'),
  };
}

function routeConfig(raw: RawRoute, index: number, authConfigured: boolean): RouteConfig {
  return {
    name: raw.name,
    index,
    match: routeMatchConfig(raw.match ?? {}),
    service: raw.service,
    stripPrefix: raw.stripPrefix,
    rewrite: raw.rewrite,
    timeoutMs: ifDefined(raw.timeout, parseDuration),
    auth: raw.auth ?? (authConfigured ? 'required' : 'none'),
    rateLimit: ifDefined(raw.rateLimit, (limit) => ({
      by: ifDefined(limit.by, rateLimitKey),
      limit: parseRate(limit.limit),
      burst: limit.burst,
    })),
  };
}

function routeMatchConfig(raw: RawRouteMatch): RouteMatchConfig {
  return {
    path: raw.path,
    pathPrefix: raw.pathPrefix,
    pathRegex: raw.pathRegex,
    hosts: ifDefined(raw.host, (host) => lowerCase([host].flat())),
    methods: ifDefined(raw.methods, upperCase),
    headers: ifDefined(raw.headers, headerMatches),
    query: ifDefined(raw.query, (query) => mapValues(query, valueMatch)),
  };
}

function headerMatches(raw: Record<string, RawValueMatch>): Record<string, ValueMatch> {
  return Object.fromEntries(Object.entries(raw).map(([name, match]) => [name.toLowerCase(), valueMatch(match)]));
}

function valueMatch(raw: RawValueMatch): ValueMatch {
  return typeof raw === 'string' ? { exact: raw } : raw;
}

function serviceConfig(name: string, raw: RawService, fromFile: PathResolver): ServiceConfig {
  return {
    name,
    protocol: raw.protocol ?? 'http',
    endpoints: raw.endpoints?.map(endpointConfig),
    timeoutMs: parseDuration(raw.timeout ?? '15s'),
    connectTimeoutMs: parseDuration(raw.connectTimeout ?? '2s'),
    idleTimeoutMs: parseDuration(raw.idleTimeout ?? '60s'),
    healthCheck: ifDefined(raw.healthCheck, (check) => ({
      path: check.path,
      intervalMs: parseDuration(check.interval ?? '5s'),
      timeoutMs: parseDuration(check.timeout ?? '1s'),
      unhealthyAfter: check.unhealthyAfter ?? 3,
      healthyAfter: check.healthyAfter ?? 2,
    })),
    retries: ifDefined(raw.retries, retryConfig),
    circuitBreaker: {
      maxRequests: raw.circuitBreaker?.maxRequests ?? 1024,
      maxPending: raw.circuitBreaker?.maxPending ?? 1024,
    },
    outlierDetection: outlierDetectionConfig(raw.outlierDetection),
    loadBalancer: raw.loadBalancer ?? 'round-robin',
    traffic: raw.traffic?.map(
      (rule): TrafficRule => ({
        match: ifDefined(rule.match, (match) => ({ headers: ifDefined(match.headers, headerMatches), paths: match.paths })),
        to: rule.to,
      }),
    ),
    sticky: ifDefined(raw.sticky, (sticky) => ({ header: sticky.header?.toLowerCase(), cookie: sticky.cookie })),
    mirror: ifDefined(raw.mirror, (mirror) => ({ to: mirror.to, percent: mirror.percent ?? 100 })),
    fault: ifDefined(raw.fault, (fault) => ({
      delay: ifDefined(fault.delay, (delay) => ({ percent: delay.percent, durationMs: parseDuration(delay.duration) })),
      abort: fault.abort,
    })),
    authorization: ifDefined(raw.authorization, (authorization) => ({
      allow: authorization.allow.map((rule) => ({ ...rule, methods: ifDefined(rule.methods, upperCase) })),
    })),
    run: raw.run?.map(
      (entry): RunEntry => ({
        version: entry.version,
        command: entry.command,
        replicas: entry.replicas ?? 1,
        env: mapValues(entry.env ?? {}, String),
        cwd: ifDefined(entry.cwd, fromFile),
      }),
    ),
  };
}

/** A URL string or `{ url, weight, version }`; the version may also come from the URL's `#v2`. */
function endpointConfig(raw: NonNullable<RawService['endpoints']>[number]): ServiceEndpoint {
  const spec = typeof raw === 'string' ? { url: raw } : raw;
  const { version, ...address } = parseEndpointUrl(spec.url);
  return { ...address, weight: spec.weight ?? 1, version: spec.version ?? version ?? 'v1' };
}

const DEFAULT_RETRY_ON = ['connect-failure', 'refused-stream', 'reset', '502', '503', '504'];

function retryConfig(raw: NonNullable<RawService['retries']>): RetryConfig {
  return {
    attempts: raw.attempts ?? 3,
    perTryTimeoutMs: ifDefined(raw.perTryTimeout, parseDuration),
    on: (raw.on ?? DEFAULT_RETRY_ON).map(String),
    backoff: parseBackoff(raw.backoff ?? '25ms..250ms'),
    budget: parsePercent(raw.budget ?? '20%'),
    minRetriesPerSecond: raw.minRetriesPerSecond ?? 10,
  };
}

/**
 * Without the section, only gateway failures (refused or reset connections) eject an endpoint:
 * they are the endpoint's fault beyond doubt. Counting 5xx answers, which may be the app's honest
 * reply, is opted into by writing the section (then 5 in a row by default).
 */
function outlierDetectionConfig(raw: RawService['outlierDetection']): OutlierDetectionConfig {
  return {
    consecutive5xx: raw?.consecutive5xx ?? (raw === undefined ? 0 : 5),
    consecutiveGatewayFailure: raw?.consecutiveGatewayFailure ?? 3,
    ejectionTimeMs: parseDuration(raw?.ejectionTime ?? '30s'),
    maxEjectionTimeMs: parseDuration(raw?.maxEjectionTime ?? '300s'),
    maxEjectedPercent: raw?.maxEjectedPercent ?? 50,
  };
}

function ifDefined<T, R>(value: T | undefined, convert: (value: T) => R): R | undefined {
  return value === undefined ? undefined : convert(value);
}

function mapValues<T, R>(record: Record<string, T>, convert: (value: T, key: string) => R): Record<string, R> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, convert(value, key)]));
}

function upperCase(names: readonly string[]): string[] {
  return names.map((name) => name.toUpperCase());
}

function lowerCase(names: readonly string[]): string[] {
  return names.map((name) => name.toLowerCase());
}

/**
 * Freezes the tree and drops keys whose value is `undefined`, so a setting that is not configured
 * is absent (`'tls' in gateway` is false) rather than present as `undefined`.
 */
function finalize<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (child === undefined) delete (value as Record<string, unknown>)[key];
      else finalize(child);
    }
    Object.freeze(value);
  }
  return value;
}

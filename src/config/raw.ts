/**
 * The config file as written, once it has passed schema/sekisho.schema.json: notations are still
 * strings (`3s`, `10/s`, `1mb`), defaults are not applied yet, and names keep the file's spelling.
 * These types mirror the schema; `normalize.ts` turns them into the frozen types of `types.ts`.
 */

export type RawValueMatch = string | { exact?: string; regex?: string; present?: boolean };

/** A section or a service left empty (`gateway:` and nothing under it) is `null`: all defaults. */
export interface RawFile {
  mesh?: { name?: string; defaultAuthorization?: 'authenticated' | 'deny' } | null;
  controlPlane?: RawControlPlane | null;
  gateway?: RawGateway | null;
  services?: Record<string, RawService | null> | null;
}

export interface RawControlPlane {
  listen?: string | number;
  xds?: string | number;
  store?: string;
  joinToken?: string;
  adminToken?: string;
  ca?: { certTTL?: string; cert?: string; key?: string };
}

export interface RawGateway {
  name?: string;
  listen?: string | number;
  admin?: string | number;
  adminToken?: string;
  tls?: { cert: string; key: string };
  trustedProxies?: string[];
  maxBodySize?: string;
  cors?: RawCors;
  auth?: { jwt: RawJwt };
  rateLimit?: { by?: string; limit: string; burst?: number; store?: string; failOpen?: boolean };
  limits?: RawLimits;
  routes?: RawRoute[];
}

export interface RawCors {
  allowOrigins: string[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  allowCredentials?: boolean;
  maxAge?: string;
}

export interface RawJwt {
  issuer?: string;
  audience?: string | string[];
  jwksUri?: string;
  keys?: { file: string }[];
  secret?: string;
  algorithms?: string[];
  clockSkew?: string;
  forwardClaims?: Record<string, string>;
}

export interface RawLimits {
  headersTimeout?: string;
  requestTimeout?: string;
  keepAliveTimeout?: string;
  maxHeaderSize?: string;
  maxHeaderCount?: number;
  drainTimeout?: string;
}

export interface RawRoute {
  name: string;
  match?: RawRouteMatch;
  service: string;
  stripPrefix?: string;
  rewrite?: { prefix?: string; regex?: string; replacement?: string };
  timeout?: string;
  auth?: 'none' | 'required';
  rateLimit?: { by?: string; limit: string; burst?: number };
}

export interface RawRouteMatch {
  path?: string;
  pathPrefix?: string;
  pathRegex?: string;
  host?: string | string[];
  methods?: string[];
  headers?: Record<string, RawValueMatch>;
  query?: Record<string, RawValueMatch>;
}

export interface RawService {
  endpoints?: (string | { url: string; weight?: number; version?: string })[];
  protocol?: 'http' | 'http2' | 'grpc';
  timeout?: string;
  connectTimeout?: string;
  idleTimeout?: string;
  healthCheck?: {
    path: string;
    interval?: string;
    timeout?: string;
    unhealthyAfter?: number;
    healthyAfter?: number;
  };
  retries?: {
    attempts?: number;
    perTryTimeout?: string;
    on?: (string | number)[];
    backoff?: string;
    budget?: string;
    minRetriesPerSecond?: number;
  };
  circuitBreaker?: { maxRequests?: number; maxPending?: number };
  outlierDetection?: {
    consecutive5xx?: number;
    consecutiveGatewayFailure?: number;
    ejectionTime?: string;
    maxEjectionTime?: string;
    maxEjectedPercent?: number;
  };
  loadBalancer?: 'round-robin' | 'least-request' | 'random';
  traffic?: { match?: { headers?: Record<string, RawValueMatch>; paths?: string[] }; to: Record<string, number> }[];
  sticky?: { header?: string; cookie?: string };
  mirror?: { to: string; percent?: number };
  fault?: {
    delay?: { percent: number; duration: string };
    abort?: { percent: number; status: number };
  };
  authorization?: { allow: { from: string[]; methods?: string[]; paths?: string[] }[] };
  run?: { version: string; command: string; replicas?: number; env?: Record<string, string | number | boolean>; cwd?: string }[];
}

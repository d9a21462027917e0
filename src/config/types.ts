/**
 * The validated, defaulted, frozen shape of a Sekisho config file (SPEC §3).
 *
 * `loadConfig` is the only producer of these objects. Everything downstream (router, services,
 * filters, admin) reads them and never re-parses strings: durations are milliseconds, sizes are
 * bytes, rates are {count, periodMs}, endpoints are parsed URLs. Every object is deeply frozen.
 */

/** `host:port` parsed; host may be an IPv6 literal without brackets. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `10/s`, `600/min`: `count` tokens per `periodMs`. */
export interface Rate {
  readonly count: number;
  readonly periodMs: number;
}

export interface MeshConfig {
  /** Trust domain: identities are spiffe://<name>/svc/<service>. */
  readonly name: string;
  readonly defaultAuthorization: 'authenticated' | 'deny';
}

export interface ControlPlaneConfig {
  readonly listen: ListenAddress;
  readonly xds: ListenAddress;
  /** `memory`, `file:./dir`, or `etcd://host:port[,host:port]`. */
  readonly store: string;
  readonly joinToken?: string;
  readonly adminToken?: string;
  readonly ca: {
    readonly certTTLMs: number;
    /** Optional root given as files; otherwise the control plane makes its own. */
    readonly cert?: string;
    readonly key?: string;
  };
}

export interface TlsFiles {
  /** Absolute paths (resolved against the config file's folder). */
  readonly cert: string;
  readonly key: string;
}

export interface CorsConfig {
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly allowCredentials: boolean;
  readonly maxAgeMs?: number;
}

export interface JwtKeyFile {
  /** Absolute path of a PEM (SPKI/X.509) or JWK/JWKS JSON file. */
  readonly file: string;
}

export interface JwtConfig {
  readonly issuer?: string;
  readonly audience: readonly string[];
  readonly jwksUri?: string;
  readonly keys: readonly JwtKeyFile[];
  readonly secret?: string;
  readonly algorithms: readonly string[];
  readonly clockSkewMs: number;
  /** claim name → upstream header name (lower-case). */
  readonly forwardClaims: Readonly<Record<string, string>>;
}

export interface AuthConfig {
  readonly jwt?: JwtConfig;
}

export interface RateLimitConfig {
  /** `ip`, `jwt:sub` (any claim after `jwt:`), or `header:NAME`. */
  readonly by: string;
  readonly limit: Rate;
  /** Extra tokens above the steady rate; defaults to `limit.count`. */
  readonly burst: number;
  /** `memory` or a `redis://` URL. */
  readonly store: string;
  readonly failOpen: boolean;
}

/** A per-route override: any subset of the gateway-wide limit. */
export interface RouteRateLimitConfig {
  readonly by?: string;
  readonly limit: Rate;
  readonly burst?: number;
}

/**
 * A header or query condition. A plain string in the file means `{ exact: value }`.
 * Exactly one of the fields is set.
 */
export interface ValueMatch {
  readonly exact?: string;
  readonly regex?: string;
  readonly present?: boolean;
}

export interface RouteMatchConfig {
  /** Exactly one of path / pathPrefix / pathRegex, or none (matches every path). */
  readonly path?: string;
  readonly pathPrefix?: string;
  readonly pathRegex?: string;
  /** Lower-case host names without port; a leading `*.` is a wildcard for one or more labels. */
  readonly hosts?: readonly string[];
  /** Upper-case method names. */
  readonly methods?: readonly string[];
  /** Header names lower-case. */
  readonly headers?: Readonly<Record<string, ValueMatch>>;
  readonly query?: Readonly<Record<string, ValueMatch>>;
}

/** How the forwarded path is rewritten after a match (applied after `stripPrefix`). */
export interface RewriteConfig {
  /** Replace the matched `pathPrefix` (or the stripped remainder's start) with this prefix. */
  readonly prefix?: string;
  /** Replace the first match of `regex` in the path with `replacement` (`$1` groups allowed). */
  readonly regex?: string;
  readonly replacement?: string;
}

export interface RouteConfig {
  readonly name: string;
  /** Index in the file, used as the last tie-breaker of route ordering. */
  readonly index: number;
  readonly match: RouteMatchConfig;
  readonly service: string;
  readonly stripPrefix?: string;
  readonly rewrite?: RewriteConfig;
  /** Overrides the service's `timeout` for this route. */
  readonly timeoutMs?: number;
  readonly auth: 'none' | 'required';
  readonly rateLimit?: RouteRateLimitConfig;
}

export interface GatewayConfig {
  readonly name: string;
  readonly listen: ListenAddress;
  readonly admin: ListenAddress;
  readonly adminToken?: string;
  readonly tls?: TlsFiles;
  /** CIDRs (v4 or v6) allowed to set X-Forwarded-For. */
  readonly trustedProxies: readonly string[];
  readonly maxBodySize?: number;
  readonly cors?: CorsConfig;
  readonly auth?: AuthConfig;
  readonly rateLimit?: RateLimitConfig;
  readonly limits: ListenerLimits;
  readonly routes: readonly RouteConfig[];
}

/** Protections of the downstream listener (slowloris, oversized headers, drain on stop). */
export interface ListenerLimits {
  /** Time allowed to receive the complete request head. */
  readonly headersTimeoutMs: number;
  /** Time allowed to receive the complete request (head and body). 0 = no limit (streaming uploads). */
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderSize: number;
  readonly maxHeaderCount: number;
  /** How long a graceful stop waits for in-flight requests. */
  readonly drainTimeoutMs: number;
}

export interface HealthCheckConfig {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyAfter: number;
  readonly healthyAfter: number;
}

export interface RetryConfig {
  readonly attempts: number;
  readonly perTryTimeoutMs?: number;
  /** `connect-failure`, `reset`, `refused-stream`, or status codes as strings (`503`, `5xx`). */
  readonly on: readonly string[];
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** Share of live requests that may be retries, 0..1. */
  readonly budget: number;
  /** Retries always allowed per second whatever the budget says. */
  readonly minRetriesPerSecond: number;
}

export interface CircuitBreakerConfig {
  readonly maxRequests: number;
  readonly maxPending: number;
}

export interface OutlierDetectionConfig {
  readonly consecutive5xx: number;
  /** Connect failures and resets before an ejection, counted apart from 5xx. */
  readonly consecutiveGatewayFailure: number;
  readonly ejectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  /** 0..100 */
  readonly maxEjectedPercent: number;
}

export interface TrafficRule {
  readonly match?: { readonly headers?: Readonly<Record<string, ValueMatch>>; readonly paths?: readonly string[] };
  /** version → weight (any non-negative numbers; normalised at use). */
  readonly to: Readonly<Record<string, number>>;
}

export interface ServiceEndpoint {
  /** `http://host:port` or `https://host:port`, no path. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http:' | 'https:';
  readonly weight: number;
  /** Version label of this endpoint, `v1` unless given (`http://…#v2` or `{url, version}`). */
  readonly version: string;
}

export interface AuthorizationRule {
  readonly from: readonly string[];
  readonly methods?: readonly string[];
  readonly paths?: readonly string[];
}

export interface RunEntry {
  readonly version: string;
  readonly command: string;
  readonly replicas: number;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface ServiceConfig {
  readonly name: string;
  readonly protocol: 'http' | 'http2' | 'grpc';
  /** Static upstreams; when absent the instances come from the mesh registry. */
  readonly endpoints?: readonly ServiceEndpoint[];
  /** Deadline for the response head, across every try and backoff (`retries.perTryTimeoutMs` bounds each try). */
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Longest silence allowed while a response body streams. */
  readonly idleTimeoutMs: number;
  readonly healthCheck?: HealthCheckConfig;
  readonly retries?: RetryConfig;
  readonly circuitBreaker: CircuitBreakerConfig;
  readonly outlierDetection: OutlierDetectionConfig;
  readonly loadBalancer: 'round-robin' | 'least-request' | 'random';
  readonly traffic?: readonly TrafficRule[];
  readonly sticky?: { readonly header?: string; readonly cookie?: string };
  readonly mirror?: { readonly to: string; readonly percent: number };
  readonly fault?: {
    readonly delay?: { readonly percent: number; readonly durationMs: number };
    readonly abort?: { readonly percent: number; readonly status: number };
  };
  readonly authorization?: { readonly allow: readonly AuthorizationRule[] };
  readonly run?: readonly RunEntry[];
}

export interface SekishoConfig {
  /** Absolute path of the file this came from (`<inline>` for strings). */
  readonly file: string;
  readonly mesh: MeshConfig;
  readonly controlPlane?: ControlPlaneConfig;
  readonly gateway?: GatewayConfig;
  readonly services: Readonly<Record<string, ServiceConfig>>;
}

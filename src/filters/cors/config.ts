import type { CorsConfig } from '../../config/types.js';

/**
 * `gateway.cors` compiled once per generation into the header values every answer reuses.
 * Fetch standard rules: `*` is never sent together with credentials, so with `allowOrigins: [*]`
 * and `allowCredentials: true` any origin gets `*` and no credentials, while origins listed by
 * name get themselves echoed with credentials.
 */
export class CorsPolicy {
  /** Lower-case origins allowed by name. */
  private readonly origins: ReadonlySet<string>;
  private readonly anyOrigin: boolean;
  readonly allowCredentials: boolean;
  readonly allowMethods: string;
  readonly allowHeaders: string;
  readonly exposeHeaders: string;
  /** Whole seconds, or '' when not configured. */
  readonly maxAge: string;

  constructor(config: CorsConfig) {
    this.anyOrigin = config.allowOrigins.includes('*');
    this.origins = new Set(config.allowOrigins.filter((o) => o !== '*').map((o) => o.toLowerCase().replace(/\/+$/, '')));
    this.allowCredentials = config.allowCredentials;
    this.allowMethods = config.allowMethods.join(', ');
    this.allowHeaders = config.allowHeaders.join(', ');
    this.exposeHeaders = config.exposeHeaders.join(', ');
    this.maxAge = config.maxAgeMs === undefined ? '' : String(Math.floor(config.maxAgeMs / 1000));
  }

  /**
   * The `Access-Control-Allow-Origin` value for a request from `origin`, and whether credentials
   * may be allowed with it; undefined when the origin is not allowed.
   */
  allowOriginFor(origin: string): { readonly value: string; readonly credentials: boolean } | undefined {
    if (this.origins.has(origin.toLowerCase())) return { value: origin, credentials: this.allowCredentials };
    if (this.anyOrigin) return WILDCARD;
    return undefined;
  }
}

const WILDCARD = Object.freeze({ value: '*', credentials: false });

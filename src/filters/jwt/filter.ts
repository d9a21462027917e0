import type { JWTPayload } from 'jose';
import type { JwtConfig } from '../../config/types.js';
import type { RequestContext } from '../../core/context.js';
import type { Filter, FilterResult, FilterVerdict } from '../../core/filter.js';
import type { CounterChild } from '../../core/metrics.js';
import { Problem } from '../../core/problem.js';
import type { ProxyMetrics } from '../../core/proxy-metrics.js';
import type { VerifiedTokenCache } from './token-cache.js';
import { Rejection, type RejectReason, type TokenVerifier } from './verify.js';

/** Tokens longer than this are refused unread: no IdP issues them, and parsing costs. */
export const MAX_TOKEN_LENGTH = 8192;

/** How long a client is told to wait when the signing keys cannot be had. */
const RETRY_AFTER_UNAVAILABLE_S = '5';

/**
 * Bearer-token authentication (SPEC §3 `gateway.auth.jwt`) on routes with `auth: required`.
 * A verified token's claims go on `ctx.claims` (rate limits may key on them) and the
 * `forwardClaims` headers are added upstream; clients' own copies of those headers were removed
 * with the request head. A token seen before is answered from the verified-token cache
 * synchronously; a new one waits for one signature check.
 *
 * Refusals: 401 `unauthorized` with `WWW-Authenticate: Bearer error="invalid_token", …`, or 503
 * `auth_unavailable` when the signing keys cannot be fetched (never a 401 then).
 */
export class JwtFilter implements Filter {
  readonly name = 'jwt';
  private readonly rejected = new Map<RejectReason, CounterChild>();
  /** `forwardClaims` as [claim, header] pairs. */
  private readonly forwarded: readonly (readonly [string, string])[];

  constructor(
    config: JwtConfig,
    private readonly verifier: TokenVerifier,
    private readonly cache: VerifiedTokenCache,
    private readonly metrics: ProxyMetrics,
  ) {
    this.forwarded = Object.entries(config.forwardClaims);
  }

  onRequest(ctx: RequestContext): FilterResult {
    if (ctx.route!.config.auth !== 'required') return undefined;
    const token = bearerToken(ctx.header('authorization'));
    if (token === undefined) return this.refuse(new Rejection('missing', 'a bearer token is required'));
    if (token.length > MAX_TOKEN_LENGTH) return this.refuse(new Rejection('too_large', 'the token is too large'));
    const claims = this.cache.get(token, Date.now());
    if (claims !== undefined) return this.admit(ctx, claims);
    return this.verifier.verify(token).then((outcome) => {
      if (outcome instanceof Rejection) return this.refuse(outcome);
      this.cache.set(token, outcome);
      return this.admit(ctx, outcome);
    });
  }

  private admit(ctx: RequestContext, claims: JWTPayload): FilterVerdict {
    ctx.claims = claims;
    const forwarded = this.forwarded;
    for (let i = 0; i < forwarded.length; i++) {
      const [claim, header] = forwarded[i]!;
      const value = headerValue(claims[claim]);
      if (value !== undefined) ctx.upstreamHeaders.push(header, value);
    }
    return undefined;
  }

  private refuse(rejection: Rejection): Problem {
    let counter = this.rejected.get(rejection.reason);
    if (counter === undefined) {
      counter = this.metrics.authRejected.labels(this.metrics.role, rejection.reason);
      this.rejected.set(rejection.reason, counter);
    }
    counter.inc();
    if (rejection.reason === 'unavailable') {
      return new Problem('auth_unavailable', rejection.detail, ['retry-after', RETRY_AFTER_UNAVAILABLE_S]);
    }
    const challenge = `Bearer error="invalid_token", error_description="${rejection.detail}"`;
    return new Problem('unauthorized', rejection.detail, ['www-authenticate', challenge]);
  }
}

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1). */
function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length < 8) return undefined;
  if (authorization.charCodeAt(6) !== 0x20 /* space */ || authorization.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  const token = authorization.slice(7).trim();
  return token === '' ? undefined : token;
}

/** Header-safe text of a claim: strings and numbers as they are, lists joined with ", "; otherwise none. */
function headerValue(claim: unknown): string | undefined {
  let text: string;
  if (typeof claim === 'string') text = claim;
  else if (typeof claim === 'number' || typeof claim === 'boolean') text = String(claim);
  else if (Array.isArray(claim) && claim.every((c) => typeof c === 'string')) text = claim.join(', ');
  else return undefined;
  // Only visible ASCII and spaces: anything else could not be sent, or could forge a header.
  return /^[\x20-\x7e]*$/.test(text) ? text : undefined;
}

/**
 * Stands in for the JWT filter when a reloaded config names a key file that cannot be used: the
 * generation serves, but routes needing a token answer 503 `auth_unavailable` naming the file
 * (failing closed) until the file or the config is fixed. At startup the same error stops the
 * gateway instead.
 */
export class KeysUnusableFilter implements Filter {
  readonly name = 'jwt';

  constructor(private readonly detail: string) {}

  onRequest(ctx: RequestContext): FilterVerdict {
    if (ctx.route!.config.auth !== 'required') return undefined;
    return new Problem('auth_unavailable', this.detail, ['retry-after', RETRY_AFTER_UNAVAILABLE_S]);
  }
}

import type { JWTPayload } from 'jose';

/**
 * Tokens already verified, so a token used again costs a map lookup instead of a signature check.
 * Bounded, least recently used first out; an entry lives until its token's `exp` (plus the clock
 * skew). Issuer, audience and keys are fixed for a config generation and so is this cache: a
 * reload starts a new one.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { readonly claims: JWTPayload; readonly expiresAt: number }>();

  constructor(
    private readonly capacity: number,
    private readonly skewMs: number,
  ) {}

  /** The claims of `token` if it was verified and has not expired at `now` (ms). */
  get(token: string, now: number): JWTPayload | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    this.entries.delete(token);
    if (now > entry.expiresAt) return undefined;
    this.entries.set(token, entry); // most recently used goes last
    return entry.claims;
  }

  /** Remembers a verified token; `claims.exp` is required by the verifier. */
  set(token: string, claims: JWTPayload): void {
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { claims, expiresAt: claims.exp! * 1000 + this.skewMs });
  }

  get size(): number {
    return this.entries.size;
  }
}

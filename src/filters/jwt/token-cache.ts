import type { JWTPayload } from 'jose';

interface CachedToken {
  readonly claims: JWTPayload;
  readonly expiresAt: number;
}

/**
 * Tokens already verified, so a token used again costs a map lookup instead of a signature check.
 * Bounded, least recently used first out; an entry lives until its token's `exp` (plus the clock
 * skew). Issuer, audience and keys are fixed for a config generation and so is this cache: a
 * reload starts a new one.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, CachedToken>();
  /**
   * The most recently used entry, checked first: a client sends the same token request after
   * request, and comparing it with the last one is cheaper than hashing it for the map. Being
   * the most recent, it is already last in the map's order.
   */
  private lastToken: string | undefined = undefined;
  private lastEntry: CachedToken | undefined = undefined;

  constructor(
    private readonly capacity: number,
    private readonly skewMs: number,
  ) {}

  /** The claims of `token` if it was verified and has not expired at `now` (ms). */
  get(token: string, now: number): JWTPayload | undefined {
    let entry: CachedToken | undefined;
    if (token === this.lastToken) {
      entry = this.lastEntry!;
    } else {
      entry = this.entries.get(token);
      if (entry === undefined) return undefined;
      this.entries.delete(token);
      this.entries.set(token, entry); // most recently used goes last
      this.remember(token, entry);
    }
    if (now <= entry.expiresAt) return entry.claims;
    this.entries.delete(token);
    this.remember(undefined, undefined);
    return undefined;
  }

  /** Remembers a verified token; `claims.exp` is required by the verifier. */
  set(token: string, claims: JWTPayload): void {
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    const entry = { claims, expiresAt: claims.exp! * 1000 + this.skewMs };
    this.entries.set(token, entry);
    this.remember(token, entry);
  }

  private remember(token: string | undefined, entry: CachedToken | undefined): void {
    this.lastToken = token;
    this.lastEntry = entry;
  }

  get size(): number {
    return this.entries.size;
  }
}

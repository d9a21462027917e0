import type { Endpoint } from './endpoint.js';

/**
 * Sticky sessions (`sticky: { header: NAME }` or `{ cookie: NAME }`): the key's hash decides the
 * version a traffic split sends a user to and the endpoint within that version, so one user keeps
 * landing in the same place while the weights and the endpoints stay the same. Requests without
 * the key are spread normally.
 *
 * Hashes are 32-bit FNV-1a, computed without allocating.
 */
/** Where a request's headers are read one at a time (a `RequestContext`). */
export interface HeaderSource {
  /** The header `lowerName` (lower case), repeats joined, or undefined. */
  header(lowerName: string): string | undefined;
}

export class StickyKey {
  constructor(private readonly source: { readonly header?: string; readonly cookie?: string }) {}

  /** The key's hash for this request, or undefined when the request does not carry the key. */
  hash(request: HeaderSource): number | undefined {
    const value = this.source.header !== undefined ? request.header(this.source.header) : cookieValue(request.header('cookie'), this.source.cookie!);
    // Avalanched: FNV alone leaves similar keys (`user-1`, `user-2`) close together, which skews
    // the split of sequential ids between versions.
    return value === undefined || value === '' ? undefined : mixHashes(hashString(value), 0);
  }
}

/** The value of cookie `name` in a `Cookie` header (`a=1; b=2`), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    while (header.charCodeAt(start) === 0x20) start++;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && eq - start === name.length && header.startsWith(name, start)) {
      return header.slice(eq + 1, end).trim();
    }
    start = end + 1;
  }
  return undefined;
}

export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Two hashes combined and avalanched (murmur3's finalizer): every input bit moves the result. */
export function mixHashes(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A hash as a point in [0, 1). */
export function unitInterval(hash: number): number {
  return hash / 4294967296;
}

/**
 * Rendezvous (highest random weight) hashing: the endpoint scoring highest for this key wins.
 * When an endpoint leaves, only the keys it held move; the others keep their endpoint. Weighted
 * by `-weight / ln(u)`, so each endpoint gets its weight's share of keys. `avoid` (the endpoint a
 * failed attempt used) is skipped when another exists.
 */
export function rendezvous(endpoints: readonly Endpoint[], key: number, avoid: Endpoint | undefined): Endpoint {
  let best = endpoints[0]!;
  let bestScore = -1;
  for (let i = 0; i < endpoints.length; i++) {
    const endpoint = endpoints[i]!;
    if (endpoint === avoid && endpoints.length > 1) continue;
    const u = (mixHashes(key, endpoint.stickySeed) + 1) / 4294967298; // in (0, 1)
    const score = endpoint.config.weight / -Math.log(u);
    if (score > bestScore) {
      best = endpoint;
      bestScore = score;
    }
  }
  return best;
}

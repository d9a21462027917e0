/**
 * One entry of a route's `match.hosts`. Hosts are compared as given: lower-case names without
 * port, on both the config side and the request side (`RouteInput.host`).
 */
export type HostPattern =
  | { readonly kind: 'exact'; readonly host: string }
  /** `*.example.com` is held as its suffix `.example.com`. */
  | { readonly kind: 'wildcard'; readonly suffix: string }
  /** The route has no host condition. */
  | { readonly kind: 'any' };

export const ANY_HOST: HostPattern = { kind: 'any' };

/** A leading `*.` makes a wildcard; anything else is an exact name. */
export function parseHostPattern(pattern: string): HostPattern {
  return pattern.startsWith('*.') ? { kind: 'wildcard', suffix: pattern.slice(1) } : { kind: 'exact', host: pattern };
}

export function matchesHost(pattern: HostPattern, host: string): boolean {
  switch (pattern.kind) {
    case 'exact':
      return host === pattern.host;
    case 'wildcard':
      return matchesWildcard(pattern.suffix, host);
    case 'any':
      return true;
  }
}

/**
 * `.example.com` matches `a.example.com` and `a.b.example.com` (one or more labels), never
 * `example.com` itself.
 */
export function matchesWildcard(suffix: string, host: string): boolean {
  return host.length > suffix.length && host.endsWith(suffix);
}

import { Problem } from './problem.js';

/**
 * Path normalization (SPEC §5), done once per request before routing, auth and authorization;
 * the result is exactly the path forwarded upstream, so what was checked is what is served.
 *
 * - percent-escapes of unreserved characters (ALPHA DIGIT - . _ ~) are decoded, other escapes
 *   kept with upper-case hex;
 * - encoded `/` (%2F), `\` (%5C) and NUL (%00), a literal `\`, and malformed escapes are
 *   rejected with 400: each is a classic way to make a proxy and a backend disagree on a path;
 * - runs of `/` are merged and `.`/`..` segments resolved (never above the root).
 */
export function normalizePath(raw: string): string | Problem {
  if (raw.charCodeAt(0) !== 0x2f /* / */) return new Problem('bad_request', 'request path must start with "/"');
  if (isAlreadyNormal(raw)) return raw;
  const decoded = decodeUnreserved(raw);
  if (decoded instanceof Problem) return decoded;
  return removeDotSegments(decoded);
}

/** The fast path: nothing to decode, no empty or dot segment, no backslash. */
function isAlreadyNormal(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x25 /* % */ || c === 0x5c /* \ */) return false;
    if (c === 0x2f /* / */) {
      const next = path.charCodeAt(i + 1);
      if (next === 0x2f || next === 0x2e /* . */) return false;
    }
  }
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function isUnreserved(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)
    || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

function decodeUnreserved(path: string): string | Problem {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x5c) return new Problem('bad_request', 'backslash in request path');
    if (c !== 0x25) {
      out += path[i];
      continue;
    }
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return new Problem('bad_request', 'malformed percent-escape in request path');
    const byte = hi * 16 + lo;
    if (byte === 0x2f || byte === 0x5c || byte === 0x00) {
      return new Problem('bad_request', `encoded ${byte === 0 ? 'NUL' : byte === 0x2f ? '"/"' : '"\\"'} in request path`);
    }
    out += isUnreserved(byte) ? String.fromCharCode(byte) : '%' + path.substr(i + 1, 2).toUpperCase();
    i += 2;
  }
  return out;
}

/** RFC 3986 §5.2.4 on segments, with empty segments dropped (merged slashes). */
function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '..') out.pop();
    else if (s !== '.' && s !== '') out.push(s);
  }
  const last = segments[segments.length - 1];
  const trailingSlash = last === '' || last === '.' || last === '..';
  const joined = '/' + out.join('/');
  return trailingSlash && out.length > 0 ? joined + '/' : joined;
}

/**
 * Parsers for the value notations of the config file (SPEC §3) and of CLI flags: durations,
 * sizes, rates, listen addresses, backoffs, percentages, CIDRs and endpoint URLs.
 *
 * Each returns the machine form or throws an `Error` whose message names the bad input and shows
 * the expected form, so callers can show it as it is. The JSON schema holds the same grammars as
 * patterns (for editors); these functions are what the loader and the CLI actually trust.
 */
import { isIP, isIPv6 } from 'node:net';
import type { ListenAddress, Rate, ServiceEndpoint } from './types.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `250ms`, `3s`, `1.5s`, `10m`, `24h` → milliseconds (rounded to a whole millisecond). */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`invalid duration "${text}": use a number with ms, s, m or h, like 250ms, 3s, 10m, 24h`);
  return Math.round(Number(m[1]) * DURATION_MS[m[2]]);
}

const SIZE = /^(\d+(?:\.\d+)?)(b|kb|mb|gb)$/;
const SIZE_BYTES: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `10b`, `64kb`, `1mb`, `1.5GB` (any case, 1024-based) → whole bytes. */
export function parseSize(text: string): number {
  const m = SIZE.exec(text.toLowerCase());
  if (!m) throw new Error(`invalid size "${text}": use a number with b, kb, mb or gb, like 64kb or 1mb`);
  return Math.floor(Number(m[1]) * SIZE_BYTES[m[2]]);
}

const RATE = /^([1-9]\d*)\/(s|sec|second|m|min|minute|h|hour)$/;
const PERIOD_MS: Readonly<Record<string, number>> = {
  s: 1_000,
  sec: 1_000,
  second: 1_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
};

/** `10/s`, `600/min`, `1000/hour` → `{ count, periodMs }`. The count must be at least 1. */
export function parseRate(text: string): Rate {
  const m = RATE.exec(text);
  if (!m) throw new Error(`invalid rate "${text}": use a positive count per s, min or h, like 10/s or 600/min`);
  return { count: Number(m[1]), periodMs: PERIOD_MS[m[2]] };
}

// [ipv6]:port | host:port | :port | port. The host part may be empty: all IPv4 interfaces.
const LISTEN = /^(?:(?:\[([^\]]*)\]|([A-Za-z0-9.-]*)):)?(\d+)$/;

/**
 * `0.0.0.0:8080`, `[::1]:80`, `:8080`, `8080` (string or number) → `{ host, port }`. An absent
 * host means every IPv4 interface (`0.0.0.0`), matching the default public listener; IPv6 hosts
 * come back without brackets. Port 0 (any free port) is allowed.
 */
export function parseListen(value: string | number): ListenAddress {
  const text = String(value);
  const m = LISTEN.exec(text);
  const port = m ? Number(m[3]) : NaN;
  const v6 = m?.[1];
  if (!m || port > 65535 || (v6 !== undefined && !isIPv6(v6))) {
    throw new Error(`invalid listen address "${text}": use host:port, [ipv6]:port, :port or a port (0-65535)`);
  }
  return { host: v6 ?? (m[2] || '0.0.0.0'), port };
}

/**
 * `25ms..250ms` → `{ baseMs: 25, maxMs: 250 }`; a single duration is a constant backoff.
 * The base must not exceed the maximum.
 */
export function parseBackoff(text: string): { baseMs: number; maxMs: number } {
  const [base = '', max = base, extra] = text.split('..');
  const problem = `invalid backoff "${text}": use base..max, like 25ms..250ms`;
  if (extra !== undefined) throw new Error(problem);
  const baseMs = parseDurationOr(base, problem);
  const maxMs = parseDurationOr(max, problem);
  if (baseMs > maxMs) throw new Error(`invalid backoff "${text}": the base is larger than the maximum`);
  return { baseMs, maxMs };
}

function parseDurationOr(text: string, problem: string): number {
  if (!DURATION.test(text)) throw new Error(problem);
  return parseDuration(text);
}

const PERCENT = /^(\d+(?:\.\d+)?)%$/;

/** `20%` → 0.2 (0% to 100%). */
export function parsePercent(text: string): number {
  const m = PERCENT.exec(text);
  const percent = Number(m?.[1]);
  if (!m || percent > 100) throw new Error(`invalid percentage "${text}": use 0% to 100%, like 20%`);
  return percent / 100;
}

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (`/32` or `/128` implied). */
export function parseCidr(text: string): Cidr {
  const [address = '', prefixText, extra] = text.split('/');
  const family = isIP(address);
  const bits = family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  const validPrefix = prefixText === undefined || (/^\d{1,3}$/.test(prefixText) && prefix <= bits);
  if (family === 0 || extra !== undefined || !validPrefix) {
    throw new Error(`invalid CIDR "${text}": use an address or address/prefix, like 10.0.0.0/8 or fd00::/8`);
  }
  return { address, prefix, family: family as 4 | 6 };
}

/** An endpoint URL's parts; `version` only when the URL names one as `#v2`. */
export type EndpointAddress = Omit<ServiceEndpoint, 'weight' | 'version'> & { readonly version?: string };

const VERSION_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const DEFAULT_PORT = { 'http:': 80, 'https:': 443 } as const;

/**
 * `http://127.0.0.1:9000`, `https://billing.internal`, `http://[::1]:9000#v2` → its parts. Only
 * http and https, and only an origin: a path, query or credentials would be silently dropped or
 * misapplied by a proxy, so they are refused. A missing port is the scheme's default; `url` always
 * spells the port out.
 */
export function parseEndpointUrl(text: string): EndpointAddress {
  const invalid = (why: string) => new Error(`invalid endpoint "${text}": ${why}; use http(s)://host:port`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`scheme "${url.protocol.slice(0, -1)}" is not http or https`);
  }
  if (url.username || url.password) throw invalid('credentials are not allowed');
  // `new URL` turns a missing path into `/`; only a non-trivial path was really written.
  if (url.pathname !== '/' || url.search) throw invalid('a path or query is not allowed');
  const version = url.hash.slice(1);
  if (url.hash && !VERSION_LABEL.test(version)) throw invalid(`"${url.hash}" is not a version like #v2`);
  const protocol = url.protocol;
  const port = url.port ? Number(url.port) : DEFAULT_PORT[protocol];
  return {
    url: `${protocol}//${url.hostname}:${port}`,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    protocol,
    ...(version ? { version } : {}),
  };
}

import { randomFillSync } from 'node:crypto';

/**
 * Header rules every role shares: hop-by-hop removal (RFC 9110 §7.6.1), request ids and
 * W3C trace context. Header lists are Node's flat raw form, `[name, value, name, value, …]`.
 */

/** Connection-specific headers: meaningful for one hop only, never forwarded either way. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
]);

export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName);
}

/**
 * Names listed in a `Connection` header are hop-by-hop too. Returns undefined for the common
 * `keep-alive`/`close` values so callers skip the extra lookup.
 */
export function connectionTokens(connection: string | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  let tokens: Set<string> | undefined;
  for (const part of connection.split(',')) {
    const token = part.trim().toLowerCase();
    if (token === '' || token === 'close' || token === 'keep-alive') continue;
    (tokens ??= new Set()).add(token);
  }
  return tokens;
}

// Request, trace and span ids come from one pool of random bytes, hex-encoded once per refill:
// an id is then a few substrings of it instead of a random-number call and an encoding each.
const POOL_BYTES = 16 * 1024;
const pool = Buffer.alloc(POOL_BYTES);
let poolHex = '';
let hexOffset = 2 * POOL_BYTES;

/** `chars` random hex digits. */
function randomHex(chars: number): string {
  if (hexOffset + chars > poolHex.length) {
    randomFillSync(pool);
    poolHex = pool.toString('hex');
    hexOffset = 0;
  }
  const hex = poolHex.slice(hexOffset, hexOffset + chars);
  hexOffset += chars;
  return hex;
}

/** The RFC 4122 variant digit (`10xx`) for a random hex digit. */
const VARIANT = '89ab89ab89ab89ab';

/** A new request id: a random (version 4) UUID, the form Envoy and most tracing tools expect. */
export function newRequestId(): string {
  const hex = randomHex(32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${VARIANT[parseInt(hex[16]!, 16)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * The trace id of a valid version-00 `traceparent`, or undefined when it is absent or invalid
 * (an invalid one is replaced, as the W3C spec asks of a vendor that cannot parse it).
 */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  if (traceparent === undefined || traceparent.length !== 55) return undefined;
  const m = TRACEPARENT.exec(traceparent);
  if (m === null || m[1] === ZERO_TRACE || m[2] === ZERO_SPAN) return undefined;
  return m[1];
}

/** A fresh, sampled traceparent for a request that arrived without one. */
export function newTraceparent(): { traceparent: string; traceId: string } {
  const traceId = randomHex(32);
  return { traceparent: `00-${traceId}-${randomHex(16)}-01`, traceId };
}

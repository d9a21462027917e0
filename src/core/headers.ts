import { randomFillSync, randomUUID } from 'node:crypto';

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

/** A new request id: a random UUID, the form Envoy and most tracing tools expect. */
export function newRequestId(): string {
  return randomUUID();
}

// Trace and span ids come from a pre-filled random pool: one syscall per few hundred requests
// instead of one per id.
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
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
  const traceId = randomHex(16);
  return { traceparent: `00-${traceId}-${randomHex(8)}-01`, traceId };
}

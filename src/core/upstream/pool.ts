import type { Pool } from 'undici';
import type { UpstreamHandler, UpstreamRequest } from './transport.js';

/** Pool settings every transport shares: long-lived keep-alive, one request per connection at a time. */
export const POOL_DEFAULTS = {
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  pipelining: 1,
} as const;

/** One exchange on an undici pool, streamed into `handler` (undici's native handler shape). */
export function dispatchOn(pool: Pool, request: UpstreamRequest, handler: UpstreamHandler): void {
  pool.dispatch(
    {
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body,
      headersTimeout: request.headersTimeoutMs,
      bodyTimeout: request.bodyTimeoutMs,
    },
    handler,
  );
}

/** A health probe on `pool`: GET `path`, resolving to the status (rejects on failure or timeout). */
export async function probeOn(pool: Pool, path: string, timeoutMs: number): Promise<number> {
  const { statusCode, body } = await pool.request({
    method: 'GET',
    path,
    headers: { 'user-agent': 'sekisho-health-check' },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  });
  await body.dump();
  return statusCode;
}

import { Pool } from 'undici';
import type { UpstreamHandler, UpstreamRequest, UpstreamTransport } from './transport.js';

export interface Http1Options {
  readonly connectTimeoutMs: number;
  /** How long an idle pooled connection is kept; the upstream's Keep-Alive hint can shorten it. */
  readonly keepAliveMs?: number;
}

/**
 * HTTP/1.1 to one endpoint over undici's keep-alive pool. Connections are reused across requests
 * (and across config reloads: the runtime hands a transport over when the endpoint stays).
 */
export class Http1Transport implements UpstreamTransport {
  private readonly pool: Pool;

  constructor(origin: string, options: Http1Options) {
    this.pool = new Pool(origin, {
      connect: { timeout: options.connectTimeoutMs },
      keepAliveTimeout: options.keepAliveMs ?? 30_000,
      keepAliveMaxTimeout: 600_000,
      pipelining: 1,
    });
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.pool.dispatch(
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

  async probe(path: string, timeoutMs: number): Promise<number> {
    const { statusCode, body } = await this.pool.request({
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

  close(): Promise<void> {
    return this.pool.close();
  }
}

import { ConnectionPool } from './connection-pool.js';
import type { UpstreamHandler, UpstreamRequest, UpstreamTransport } from './transport.js';

export interface Http1Options {
  readonly connectTimeoutMs: number;
}

/**
 * HTTP/1.1 to one endpoint (`http://` or `https://`) over Sekisho's keep-alive connection pool.
 * Connections are reused across requests (and across config reloads: the runtime hands a
 * transport over when the endpoint stays).
 */
export class Http1Transport implements UpstreamTransport {
  private readonly pool: ConnectionPool;

  constructor(origin: string, options: Http1Options) {
    this.pool = new ConnectionPool(origin, { connectTimeoutMs: options.connectTimeoutMs });
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.pool.dispatch(request, handler);
  }

  probe(path: string, timeoutMs: number): Promise<number> {
    return this.pool.probe(path, timeoutMs);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

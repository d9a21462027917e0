import { Pool } from 'undici';
import { dispatchOn, POOL_DEFAULTS, probeOn } from './pool.js';
import type { UpstreamHandler, UpstreamRequest, UpstreamTransport } from './transport.js';

export interface Http1Options {
  readonly connectTimeoutMs: number;
}

/**
 * HTTP/1.1 to one endpoint over undici's keep-alive pool. Connections are reused across requests
 * (and across config reloads: the runtime hands a transport over when the endpoint stays).
 */
export class Http1Transport implements UpstreamTransport {
  private readonly pool: Pool;

  constructor(origin: string, options: Http1Options) {
    this.pool = new Pool(origin, { ...POOL_DEFAULTS, connect: { timeout: options.connectTimeoutMs } });
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    dispatchOn(this.pool, request, handler);
  }

  probe(path: string, timeoutMs: number): Promise<number> {
    return probeOn(this.pool, path, timeoutMs);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

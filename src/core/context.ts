import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse } from './http1/message.js';
import type { RouteInput } from './router/types.js';
import type { Route, Runtime } from './runtime.js';
import type { Endpoint } from './service/endpoint.js';
import type { ProblemCode } from './problem.js';
import type { UpstreamExchange } from './proxy/exchange.js';

/** Who gets told when the response is over (the proxy that accepted the request). */
export interface RequestOwner {
  complete(ctx: RequestContext): void;
}

/**
 * Everything one request carries through the pipeline, and nothing more. Every field is set in
 * the constructor so all contexts share one hidden class; filters add what they learn
 * (`route`, `claims`, extra response headers), the upstream exchange records the outcome.
 *
 * The context is its own `RouteInput`: routers read method, host, path, query and headers
 * straight off it.
 */
export class RequestContext implements RouteInput {
  /** `performance.now()` at arrival. */
  readonly startTime: number;
  readonly method: string;
  /** Lower-case host without port, from Host or an absolute-form target. */
  host = '';
  /** The normalized path (SPEC §5): routed, checked and forwarded. */
  path = '/';
  /** Raw query without `?`. */
  query = '';
  requestId = '';
  traceId = '';
  /** The client address used for rate limits and logs (SPEC §5: socket peer unless trusted proxy). */
  clientIp = '';
  /** Request headers to send upstream, flat `[name, value, …]`, hop-by-hop already removed. */
  upstreamHeaders: string[] = [];
  /** Headers to add to whatever response this request gets (CORS, RateLimit, x-request-id). */
  responseHeaders: string[] = [];
  /** Whether the request has a body to forward. */
  hasBody = false;
  /**
   * What is sent upstream as the body: the request stream itself by default (set after the head
   * is read). Filters may replace it — a size-limiting stream, a buffered copy that retries can
   * replay — but must keep it streaming unless they bound what they hold.
   */
  body: Readable | Buffer | null = null;

  route: Route | undefined = undefined;
  /** Verified JWT claims, when the JWT filter ran. */
  claims: Readonly<Record<string, unknown>> | undefined = undefined;

  endpoint: Endpoint | undefined = undefined;
  /** The upstream attempt under way, cancelled if the client leaves first. */
  exchange: UpstreamExchange | undefined = undefined;
  attempts = 0;
  status = 0;
  bytesSent = 0;
  reason: ProblemCode | undefined = undefined;
  /** A short explanation of a failure, for the access log. */
  detail: string | undefined = undefined;

  constructor(
    readonly req: HttpRequest,
    readonly res: HttpResponse,
    readonly runtime: Runtime,
    readonly owner: RequestOwner,
    startTime: number,
  ) {
    this.startTime = startTime;
    this.method = req.method;
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  /** One request header (`lowerName` in lower case), as `headers[lowerName]` would give it. */
  header(lowerName: string): string | undefined {
    return this.req.header(lowerName);
  }
}

import type { RequestContext } from '../context.js';
import { isHopByHop } from '../headers.js';
import { Problem } from '../problem.js';
import type { Endpoint } from '../service/endpoint.js';
import { classifyFailure, type UpstreamHandler } from '../upstream/transport.js';

/** What the exchange needs from the proxy that started it. */
export interface ExchangeOwner {
  /** Answers the request with a problem document (nothing was sent to the client yet). */
  respond(ctx: RequestContext, problem: Problem): void;
}

/**
 * One upstream attempt of one request, streamed straight through: the response head is
 * rewritten (hop-by-hop removed, the request's extra headers added) and the body is piped
 * chunk by chunk with backpressure both ways — undici pauses the upstream socket while the
 * client's socket is full, and a request body is read only as fast as the upstream takes it.
 */
export class UpstreamExchange implements UpstreamHandler {
  private abortUpstream: ((reason?: Error) => void) | undefined = undefined;
  private resume: (() => void) | undefined = undefined;
  private finished = false;

  constructor(
    private readonly ctx: RequestContext,
    private readonly endpoint: Endpoint,
    private readonly owner: ExchangeOwner,
  ) {
    endpoint.active++;
    endpoint.totalRequests++;
  }

  /** The client went away: stop the upstream exchange too, so the upstream is not left working. */
  cancel(): void {
    if (!this.finished) this.abortUpstream?.(new Error('client closed the connection'));
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.ctx.res.destroyed) abort(new Error('client closed the connection'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx informational: Node answers 100-continue itself
    const ctx = this.ctx;
    const outliers = ctx.route!.service.outliers;
    if (statusCode >= 500) outliers.record5xx(this.endpoint);
    else outliers.recordSuccess(this.endpoint);

    const headers: string[] = [];
    let hasRequestId = false;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toString('latin1');
      const lower = name.toLowerCase();
      if (isHopByHop(lower)) continue;
      if (lower === 'x-request-id') hasRequestId = true;
      headers.push(name, rawHeaders[i + 1]!.toString('latin1'));
    }
    if (!hasRequestId) headers.push('x-request-id', ctx.requestId);
    const extra = ctx.responseHeaders;
    for (let i = 0; i < extra.length; i++) headers.push(extra[i]!);

    ctx.status = statusCode;
    const res = ctx.res;
    if (res.destroyed) return false;
    res.writeHead(statusCode, headers);
    this.resume = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.ctx.bytesSent += chunk.length;
    const res = this.ctx.res;
    if (res.write(chunk)) return true;
    res.once('drain', this.resume!);
    return false;
  }

  onComplete(): void {
    this.settle(false);
    this.ctx.res.end();
  }

  onError(error: Error): void {
    const ctx = this.ctx;
    const failure = classifyFailure(error);
    const clientGone = ctx.res.destroyed || (ctx.req.destroyed && !ctx.req.complete);
    this.settle(!clientGone);
    if (!clientGone && failure !== 'other') ctx.route!.service.outliers.recordGatewayFailure(this.endpoint);
    if (clientGone) return;
    ctx.detail = error.message;
    if (ctx.res.headersSent) {
      // Mid-response failure: the status is gone, so break the connection rather than let the
      // client take a truncated body for a complete one.
      ctx.reason = (error as NodeJS.ErrnoException).code === 'UND_ERR_BODY_TIMEOUT' ? 'upstream_timeout' : 'upstream_unavailable';
      ctx.res.destroy(error);
      return;
    }
    this.owner.respond(ctx, failureProblem(failure, ctx.route!.service.name, this.endpoint.address, error));
  }

  private settle(failed: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.endpoint.active--;
    if (failed) this.endpoint.totalFailures++;
  }
}

function failureProblem(failure: string, service: string, address: string, error: Error): Problem {
  const code = (error as NodeJS.ErrnoException).code;
  const cause = code ? ` (${code})` : '';
  switch (failure) {
    case 'connect-failure':
      return new Problem('upstream_unavailable', `could not connect to service "${service}" at ${address}${cause}`);
    case 'reset':
      return new Problem('upstream_unavailable', `service "${service}" at ${address} closed the connection before responding${cause}`, undefined, 502);
    case 'timeout':
      return new Problem('upstream_timeout', `service "${service}" at ${address} did not respond in time`);
    default:
      return new Problem('upstream_unavailable', `request to service "${service}" at ${address} failed: ${error.message}`, undefined, 502);
  }
}

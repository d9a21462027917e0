import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { writeAccessLog } from '../access-log.js';
import { RequestContext, type RequestOwner } from '../context.js';
import { RESPONDED, type FilterVerdict } from '../filter.js';
import type { HttpRequest, HttpResponse } from '../http1/message.js';
import { Problem, sendProblem } from '../problem.js';
import { releaseEndpoints, type Runtime } from '../runtime.js';
import { UpstreamExchange, type ExchangeOwner } from './exchange.js';
import { readRequestHead, type HeadOptions } from './request-head.js';

/**
 * The proxy core's request path, shared by every role:
 *   request head → filter pipeline (routing is one of its stages) → the service picks an
 *   endpoint → an upstream exchange streams the response back.
 * The role decides the filters (through the runtime's pipeline) and the head options.
 *
 * `runtime` is swapped by reloads; each request keeps the generation it started with.
 */
export class Proxy implements ExchangeOwner, RequestOwner {
  /** Requests between arrival and the end of their response. */
  inFlight = 0;
  /** Set by a graceful stop: responses then ask clients to close their connections. */
  draining = false;
  private drained: (() => void) | undefined;

  constructor(
    public runtime: Runtime,
    private readonly options: HeadOptions,
    private readonly accessLog: Logger,
  ) {}

  /** The listener's request handler. */
  readonly handle = (req: HttpRequest, res: HttpResponse): void => {
    const ctx = new RequestContext(req, res, this.runtime, this, performance.now());
    this.inFlight++;
    res.whenClosed(onResponseClose, ctx);
    if (this.draining) ctx.responseHeaders.push('connection', 'close');

    const bad = readRequestHead(ctx, this.options);
    if (bad !== undefined) return this.respond(ctx, bad);
    const verdict = ctx.runtime.pipeline.run(ctx);
    if (verdict === undefined) this.forward(ctx);
    else if (verdict instanceof Promise) verdict.then((v) => this.afterPipeline(ctx, v), (e: Error) => this.pipelineFailed(ctx, e));
    else this.afterPipeline(ctx, verdict);
  };

  private afterPipeline(ctx: RequestContext, verdict: FilterVerdict): void {
    if (verdict === undefined) this.forward(ctx);
    else if (verdict !== RESPONDED) this.respond(ctx, verdict);
  }

  /** Filters resolve rather than reject; a rejection is a bug, answered without leaking it. */
  private pipelineFailed(ctx: RequestContext, error: Error): void {
    ctx.detail = error.message;
    this.respond(ctx, new Problem('upstream_unavailable', 'the request could not be processed'));
  }

  /**
   * Hands the routed request to its service: the traffic split (and sticky key) choose the
   * version, fault injection may answer or hold it, and the exchange takes it from there.
   */
  private forward(ctx: RequestContext): void {
    const service = ctx.route!.service;
    const stickyHash = service.sticky?.hash(ctx);
    const endpoints = service.split === undefined ? service.all : service.split.choose(ctx, stickyHash);
    const fault = service.fault;
    let delayMs = 0;
    if (fault !== undefined) {
      if (fault.aborts()) {
        service.faults.abort.inc();
        ctx.detail = 'fault injection: abort';
        return this.respond(ctx, new Problem('upstream_unavailable', `fault injection aborted the request to service "${service.name}"`, undefined, fault.abortStatus));
      }
      delayMs = fault.delayMs();
      if (delayMs > 0) service.faults.delay.inc();
    }
    const exchange = new UpstreamExchange(ctx, endpoints, stickyHash, this);
    ctx.exchange = exchange;
    exchange.start(delayMs);
  }

  respond(ctx: RequestContext, problem: Problem): void {
    const res = ctx.res;
    if (res.headersSent || res.destroyed) return;
    ctx.status = problem.status;
    ctx.reason = problem.code;
    ctx.detail ??= problem.detail;
    const extra = ctx.requestId === '' ? ctx.responseHeaders : [...ctx.responseHeaders, 'x-request-id', ctx.requestId];
    ctx.bytesSent = sendProblem(res, problem, ctx.requestId, extra, ctx.method === 'HEAD');
  }

  /** Accounting once the response is over, however it ended. */
  complete(ctx: RequestContext): void {
    if (!ctx.res.writableFinished) ctx.exchange?.cancel();
    if (ctx.status === 0) ctx.status = 499; // the client left before any response (nginx's convention)
    const durationMs = performance.now() - ctx.startTime;
    const stats = ctx.route?.stats ?? ctx.runtime.unrouted;
    stats.count(ctx.endpoint?.config.version ?? '', ctx.status);
    stats.duration.observe(durationMs / 1000);
    writeAccessLog(this.accessLog, ctx, durationMs);
    if (--this.inFlight === 0 && this.drained !== undefined) this.drained();
  }

  /**
   * Puts `next` in force atomically (reload, pushed config): requests under way finish on the
   * generation they started with; the old one's background work stops and its connections that
   * `next` does not reuse close once their requests are done.
   */
  install(next: Runtime): void {
    next.start();
    const previous = this.runtime;
    this.runtime = next;
    previous.stop();
    void releaseEndpoints(previous.services, next.services);
  }

  /** At the end of a graceful stop: the generation in force stops and closes its connections. */
  async retire(): Promise<void> {
    this.runtime.stop();
    await releaseEndpoints(this.runtime.services, undefined);
  }

  /** Resolves once no request is in flight (graceful stop). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }
}

/** The end-of-response listener every request shares: no closure per request. */
function onResponseClose(ctx: RequestContext): void {
  ctx.owner.complete(ctx);
}

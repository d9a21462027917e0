import type { Readable } from 'node:stream';
import type { RequestContext } from '../context.js';
import { isHopByHop } from '../headers.js';
import { Problem } from '../problem.js';
import type { BreakerWaiter } from '../service/breaker.js';
import type { Endpoint } from '../service/endpoint.js';
import type { EndpointSet } from '../service/endpoint-set.js';
import type { Service } from '../service/service.js';
import { fitsReplayBuffer, readReplayable } from '../traffic/replay-body.js';
import { attemptFailure, retryAfterMs, RetryPolicy, type AttemptFailure } from '../traffic/retry-policy.js';
import { UpstreamErrorCode, type UpstreamHandler } from '../upstream/transport.js';

/** What the exchange needs from the proxy that started it. */
export interface ExchangeOwner {
  /** Answers the request with a problem document (nothing was sent to the client yet). */
  respond(ctx: RequestContext, problem: Problem): void;
}

/**
 * Where an exchange is. One timer at a time serves the phase: the fault delay, the wait for a
 * circuit-breaker slot (until the deadline), an attempt (until its per-try timeout or the
 * deadline), the backoff before a retry.
 */
type Phase = 'delayed' | 'reading-body' | 'queued' | 'admitted' | 'trying' | 'backoff' | 'committed' | 'done';

/**
 * One request's trip upstream, over as many attempts as its service's retry policy allows:
 *
 *   [fault delay] → [body kept in memory if small] → circuit-breaker slot (or 503 circuit_open)
 *   → [mirror copy] → attempt → (retryable outcome → backoff → attempt on another endpoint)*
 *   → the response streams through, or a problem document explains why not.
 *
 * Timeouts are this exchange's own timers (fake clocks drive them in tests): the route's
 * `timeout` is a deadline for the whole trip up to the response head — queueing, attempts and
 * backoffs included — and `retries.perTryTimeout` bounds each attempt within it. An attempt that
 * runs out of time is aborted, so the upstream sees its request cancelled rather than left
 * running. Once the response head is written the deadline is over; a streaming body is bounded
 * by the service's `idleTimeout` instead, so long downloads are not cut.
 *
 * An attempt whose answer will be retried never writes to the client: its head is dropped and
 * its body drained and discarded. The body streams with backpressure both ways — the transport pauses
 * the upstream socket while the client's socket is full, and a request body is read only as fast
 * as the upstream takes it.
 */
export class UpstreamExchange implements BreakerWaiter {
  private phase: Phase = 'delayed';
  private timer: NodeJS.Timeout | undefined = undefined;
  /** `Date.now()` by which the response head must have arrived. */
  private deadline = 0;
  private attempt: Attempt | undefined = undefined;
  private holdsSlot = false;
  /** Whether the body can be sent again: absent, or in memory. */
  private replayable: boolean;
  private body: Readable | Buffer | null;
  private readonly service: Service;
  private readonly path: string;

  constructor(
    private readonly ctx: RequestContext,
    private readonly endpoints: EndpointSet,
    private readonly stickyHash: number | undefined,
    private readonly owner: ExchangeOwner,
  ) {
    const route = ctx.route!;
    this.service = route.service;
    const path = route.upstreamPath(ctx.path);
    this.path = ctx.query === '' ? path : `${path}?${ctx.query}`;
    this.body = ctx.body;
    this.replayable = this.body === null || Buffer.isBuffer(this.body);
  }

  /** Starts the trip, after `delayMs` of injected fault delay. */
  start(delayMs: number): void {
    if (delayMs > 0) this.timer = setTimeout(onTimer, delayMs, this);
    else this.readBody();
  }

  /** The client went away: stop whatever is under way, so the upstream is not left working. */
  cancel(): void {
    if (this.phase === 'done') return;
    if (this.phase === 'queued') this.service.breaker.withdraw(this);
    this.attempt?.abandon(CLIENT_GONE);
    this.finish();
  }

  /** A circuit-breaker slot came free for this queued request. */
  admitted(): void {
    clearTimeout(this.timer);
    this.holdsSlot = true;
    this.phase = 'admitted';
    // Admission happens inside another request's completion: start on a clean stack.
    process.nextTick(beginAdmitted, this);
  }

  /** The phase's timer went off (called by the shared timer callback). */
  timerFired(): void {
    switch (this.phase) {
      case 'delayed':
        return this.readBody();
      case 'queued':
        this.service.breaker.withdraw(this);
        return this.fail(new Problem('circuit_open', `no request slot of service "${this.service.name}" came free within the timeout (${this.service.breaker.config.maxRequests} in flight)`));
      case 'trying':
        return this.attemptTimedOut();
      case 'backoff':
        return this.tryEndpoint(this.attempt?.endpoint);
    }
  }

  /** Keeps a small body in memory when retries or a mirror may send it again. */
  private readBody(): void {
    const body = this.body;
    const wantsCopies = this.service.retryPolicy !== undefined || this.service.mirror !== undefined;
    if (this.replayable || !wantsCopies || !fitsReplayBuffer(body, this.ctx.header('content-length'))) return this.admit();
    this.phase = 'reading-body';
    readReplayable(body as Readable).then(
      (buffer) => {
        if (this.phase !== 'reading-body') return;
        this.body = buffer;
        this.replayable = true;
        this.admit();
      },
      (error: Error) => this.bodyFailed(error),
    );
  }

  private bodyFailed(error: Error): void {
    const ctx = this.ctx;
    if (this.phase !== 'reading-body') return;
    if (ctx.res.destroyed) return this.cancel();
    ctx.detail = error.message;
    this.fail(new Problem('bad_request', `the request body could not be read: ${error.message}`));
  }

  private admit(): void {
    const service = this.service;
    this.deadline = Date.now() + this.ctx.route!.timeoutMs;
    service.retryBudget?.recordRequest();
    switch (service.breaker.admit(this)) {
      case 'admitted':
        this.holdsSlot = true;
        return this.begin();
      case 'queued':
        this.phase = 'queued';
        this.timer = setTimeout(onTimer, this.ctx.route!.timeoutMs, this);
        return;
      case 'rejected': {
        const { maxRequests, maxPending } = service.breaker.config;
        return this.fail(new Problem('circuit_open', `service "${service.name}" has ${maxRequests} requests in flight and ${maxPending} waiting`));
      }
    }
  }

  /** Holding a slot: send the mirror copy, if any, and the first attempt. */
  begin(): void {
    if (this.phase === 'done') return;
    const mirror = this.service.mirror;
    if (mirror !== undefined && this.replayable && mirror.selects()) {
      const ctx = this.ctx;
      mirror.send({
        method: ctx.method,
        path: this.path,
        headers: ctx.upstreamHeaders,
        body: this.body as Buffer | null,
        timeoutMs: ctx.route!.timeoutMs,
        idleTimeoutMs: this.service.config.idleTimeoutMs,
      });
    }
    this.tryEndpoint(undefined);
  }

  /** One attempt, on an endpoint other than `avoid` when there is one. */
  private tryEndpoint(avoid: Endpoint | undefined): void {
    const ctx = this.ctx;
    const service = this.service;
    const endpoint = this.endpoints.pick(avoid, this.stickyHash);
    if (endpoint === undefined) {
      const which = this.endpoints.version === '*' ? `service "${service.name}"` : `version "${this.endpoints.version}" of service "${service.name}"`;
      return this.fail(new Problem('no_healthy_upstream', `${which} has no healthy endpoint${this.afterAttempts()}`));
    }
    const remaining = this.deadline - Date.now();
    const perTry = service.retryPolicy?.perTryTimeoutMs;
    const timeoutMs = Math.max(1, perTry !== undefined && perTry < remaining ? perTry : remaining);
    ctx.endpoint = endpoint;
    ctx.attempts++;
    const attempt = new Attempt(this, endpoint);
    this.attempt = attempt;
    this.phase = 'trying';
    this.timer = setTimeout(onTimer, timeoutMs, this);
    const body = this.body;
    if (!this.replayable) this.body = null; // a stream is read once
    endpoint.transport.dispatch(
      {
        method: ctx.method,
        path: this.path,
        headers: ctx.upstreamHeaders,
        body,
        headersTimeoutMs: timeoutMs,
        bodyTimeoutMs: service.config.idleTimeoutMs,
      },
      attempt,
    );
  }

  /** The response head of the current attempt: commit to it, or retry. Returns the transport's flow control. */
  responseHead(attempt: Attempt, statusCode: number, rawHeaders: string[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx informational: Node answers 100-continue itself
    const ctx = this.ctx;
    const outliers = this.service.outliers;
    if (statusCode >= 500) outliers.record5xx(attempt.endpoint);
    else outliers.recordSuccess(attempt.endpoint);

    const policy = this.service.retryPolicy;
    if (policy !== undefined && policy.retriesResponse(statusCode, rawHeaders)) {
      clearTimeout(this.timer);
      const why = this.whyNotRetry(undefined, retryAfterMs(rawHeaders, Date.now()));
      if (why === undefined) {
        attempt.discard();
        return true;
      }
      ctx.detail = `status ${statusCode} not retried: ${why}`;
    }
    return this.commit(attempt, statusCode, rawHeaders, resume);
  }

  private commit(attempt: Attempt, statusCode: number, rawHeaders: string[], resume: () => void): boolean {
    clearTimeout(this.timer);
    this.phase = 'committed';
    attempt.commit(resume);
    const ctx = this.ctx;
    const headers: string[] = [];
    let hasRequestId = false;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      const lower = name.toLowerCase();
      if (isHopByHop(lower)) continue;
      if (lower === 'x-request-id') hasRequestId = true;
      headers.push(name, rawHeaders[i + 1]!);
    }
    if (!hasRequestId) headers.push('x-request-id', ctx.requestId);
    const extra = ctx.responseHeaders;
    for (let i = 0; i < extra.length; i++) headers.push(extra[i]!);

    ctx.status = statusCode;
    const res = ctx.res;
    if (res.destroyed) return false;
    res.writeHead(statusCode, headers);
    return true;
  }

  /** A chunk of the committed response. */
  forward(chunk: Buffer, resume: () => void): boolean {
    this.ctx.bytesSent += chunk.length;
    const res = this.ctx.res;
    if (res.write(chunk)) return true;
    res.onDrain = resume;
    return false;
  }

  /** The committed response is complete. */
  responseEnded(): void {
    this.ctx.res.end();
    this.finish();
  }

  /** The current attempt failed without a usable response, or the committed one broke mid-body. */
  attemptFailed(attempt: Attempt, error: Error): void {
    clearTimeout(this.timer);
    const ctx = this.ctx;
    const failure = attemptFailure(error);
    if (ctx.res.destroyed) return this.finish(); // the client went away
    if (failure !== 'other') this.service.outliers.recordGatewayFailure(attempt.endpoint);
    ctx.detail = error.message;
    if (this.phase === 'committed') {
      // Mid-response failure: the status is gone, so break the connection rather than let the
      // client take a truncated body for a complete one.
      ctx.reason = (error as NodeJS.ErrnoException).code === UpstreamErrorCode.bodyTimeout ? 'upstream_timeout' : 'upstream_unavailable';
      ctx.res.destroy(error);
      return this.finish();
    }
    if (this.service.retryPolicy?.retriesFailure(failure)) {
      const why = this.whyNotRetry(failure, undefined);
      if (why === undefined) return;
      ctx.detail = `${error.message}; not retried: ${why}`;
    }
    this.fail(this.failureProblem(failure, attempt.endpoint, error));
  }

  private attemptTimedOut(): void {
    const attempt = this.attempt!;
    attempt.abandon(TIMED_OUT);
    this.service.outliers.recordGatewayFailure(attempt.endpoint);
    const ctx = this.ctx;
    ctx.detail = `no response head from ${attempt.endpoint.address} in time`;
    if (this.deadline - Date.now() > 0 && this.service.retryPolicy?.retriesFailure('timeout')) {
      const why = this.whyNotRetry('timeout', undefined);
      if (why === undefined) return;
      ctx.detail += `; not retried: ${why}`;
    }
    this.fail(this.failureProblem('timeout', attempt.endpoint, TIMED_OUT));
  }

  /**
   * Schedules the next attempt when everything allows it and returns undefined; otherwise says
   * why not (for the access log). Checked in order: attempts left, a body that can be sent
   * again, SPEC §5's rule for non-idempotent requests, time left before the deadline (backoff
   * or `Retry-After` included), and last the retry budget, since asking it spends from it.
   */
  private whyNotRetry(failure: AttemptFailure | undefined, retryAfter: number | undefined): string | undefined {
    const ctx = this.ctx;
    const service = this.service;
    const policy = service.retryPolicy!;
    if (ctx.attempts >= policy.attempts) return `all ${policy.attempts} attempts made`;
    if (!this.replayable) return 'the request body was streamed and cannot be sent again';
    if (!RetryPolicy.mayRepeat(ctx.method, ctx.headers, failure)) return `${ctx.method} without Idempotency-Key may have reached the app`;
    let delay = policy.backoffMs(ctx.attempts);
    if (retryAfter !== undefined && retryAfter > delay) delay = retryAfter;
    if (delay >= this.deadline - Date.now()) return 'no time left before the timeout';
    if (!service.retryBudget!.tryRetry()) {
      service.retriesDenied.inc();
      return 'retry budget exhausted';
    }
    service.retries.inc();
    this.phase = 'backoff';
    this.timer = setTimeout(onTimer, delay, this);
    return undefined;
  }

  private failureProblem(failure: AttemptFailure, endpoint: Endpoint, error: Error): Problem {
    const service = this.service.name;
    const address = endpoint.address;
    const code = (error as NodeJS.ErrnoException).code;
    const cause = code ? ` (${code})` : '';
    const after = this.afterAttempts();
    switch (failure) {
      case 'connect-failure':
      case 'refused-stream':
        return new Problem('upstream_unavailable', `could not connect to service "${service}" at ${address}${cause}${after}`);
      case 'reset':
        return new Problem('upstream_unavailable', `service "${service}" at ${address} closed the connection before responding${cause}${after}`, undefined, 502);
      case 'timeout':
        return new Problem('upstream_timeout', `service "${service}" at ${address} did not respond in time${after}`);
      default:
        return new Problem('upstream_unavailable', `request to service "${service}" at ${address} failed: ${error.message}${after}`, undefined, 502);
    }
  }

  private afterAttempts(): string {
    return this.ctx.attempts > 1 ? ` after ${this.ctx.attempts} attempts` : '';
  }

  private fail(problem: Problem): void {
    this.owner.respond(this.ctx, problem);
    this.finish();
  }

  /** The exchange is over: timers stop and the breaker slot goes to the next request. */
  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    clearTimeout(this.timer);
    if (this.holdsSlot) {
      this.holdsSlot = false;
      this.service.breaker.release();
    }
  }
}

const CLIENT_GONE = new Error('client closed the connection');
const TIMED_OUT = Object.assign(new Error('no response head in time'), { code: UpstreamErrorCode.headersTimeout });

/** Timer and tick callbacks shared by every exchange: no closure per request. */
function onTimer(exchange: UpstreamExchange): void {
  exchange.timerFired();
}

function beginAdmitted(exchange: UpstreamExchange): void {
  exchange.begin();
}

type AttemptState = 'pending' | 'committed' | 'discarded';

/**
 * One try of an exchange on one endpoint: the upstream handler of that dispatch. It keeps the
 * endpoint's load counts and hands everything that matters to its exchange; once discarded (its
 * answer is retried, or it was abandoned) it only drains, so late callbacks change nothing.
 */
class Attempt implements UpstreamHandler {
  private state: AttemptState = 'pending';
  private abortUpstream: ((reason?: Error) => void) | undefined = undefined;
  private resume: (() => void) | undefined = undefined;
  private settled = false;

  constructor(
    private readonly exchange: UpstreamExchange,
    readonly endpoint: Endpoint,
  ) {
    endpoint.active++;
    endpoint.totalRequests++;
  }

  commit(resume: () => void): void {
    this.state = 'committed';
    this.resume = resume;
  }

  /** The answer will not be used: read and drop its body, keeping the connection reusable. */
  discard(): void {
    this.state = 'discarded';
  }

  /** Stops the upstream request (timeout, client gone). */
  abandon(reason: Error): void {
    if (this.settled) return;
    this.state = 'discarded';
    this.abortUpstream?.(reason);
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.state === 'discarded') abort(CLIENT_GONE);
  }

  onHeaders(statusCode: number, rawHeaders: string[], resume: () => void): boolean {
    if (this.state !== 'pending') return true;
    return this.exchange.responseHead(this, statusCode, rawHeaders, resume);
  }

  onData(chunk: Buffer): boolean {
    return this.state === 'committed' ? this.exchange.forward(chunk, this.resume!) : true;
  }

  onComplete(): void {
    this.settle(false);
    if (this.state === 'committed') this.exchange.responseEnded();
  }

  onError(error: Error): void {
    this.settle(true);
    if (this.state !== 'discarded') this.exchange.attemptFailed(this, error);
  }

  private settle(failed: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.endpoint.active--;
    if (failed) this.endpoint.totalFailures++;
  }
}

import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { answer, fail, harness } from './harness.js';

/** Moves the fake clock 1 ms at a time, so timers set by firing timers fire on time too. */
function advance(ms: number): void {
  for (let i = 0; i < ms; i++) mock.timers.tick(1);
}

// The exchange's timers (per-try, deadline, backoff, queue) on a fake clock.
describe('upstream exchange: retries and timeouts (fake clock)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  it('bounds each try by perTryTimeout, aborts it, and retries on another endpoint', () => {
    const h = harness('timeout: 5s\nretries: { attempts: 3, perTryTimeout: 100ms, on: [504], backoff: 10ms..10ms, budget: 100% }');
    const r = h.request();
    const ups = h.upstreams;
    assert.equal(ups.dispatches.length, 1);
    assert.equal(ups.last.request.headersTimeoutMs, 100);
    advance(99);
    assert.equal(ups.dispatches[0]!.aborted, undefined);
    advance(1);
    assert.ok(ups.dispatches[0]!.aborted, 'the timed-out try is aborted');
    advance(9);
    assert.equal(ups.dispatches.length, 1, 'waits out the backoff');
    advance(1);
    assert.equal(ups.dispatches.length, 2);
    assert.notEqual(ups.dispatches[1]!.endpoint, ups.dispatches[0]!.endpoint, 'a retry prefers another endpoint');
    advance(110);
    advance(100);
    assert.equal(ups.dispatches.length, 3);
    assert.equal(r.problem?.code, 'upstream_timeout');
    assert.match(r.problem!.detail, /after 3 attempts/);
    assert.equal(r.res.status, 504);
    assert.equal(r.ctx.attempts, 3);
    assert.equal(h.service.breaker.active, 0, 'the breaker slot is released');
  });

  it('never lets a retry outlive the overall deadline', () => {
    const h = harness('timeout: 1s\nretries: { attempts: 10, perTryTimeout: 400ms, on: [504], backoff: 10ms..10ms, budget: 100% }');
    const r = h.request();
    advance(400 + 10 + 400 + 10);
    assert.equal(h.upstreams.dispatches.length, 3);
    assert.equal(h.upstreams.last.request.headersTimeoutMs, 180, 'the third try only gets what is left');
    advance(179);
    assert.equal(r.problem?.code, undefined);
    advance(1);
    assert.equal(r.problem?.code, 'upstream_timeout');
    assert.ok(h.upstreams.dispatches.every((d) => d.aborted !== undefined));
  });

  it('drops a retried answer unseen and streams the next one', () => {
    const h = harness('retries: { attempts: 3, on: [503], backoff: 10ms..10ms, budget: 100% }');
    const r = h.request();
    answer(h.upstreams.last, 503, {}, 'overloaded');
    assert.equal(r.res.headersSent, false, 'nothing of the retried attempt reaches the client');
    advance(10);
    answer(h.upstreams.last, 200, {}, 'hello');
    assert.equal(r.res.status, 200);
    assert.equal(r.res.body, 'hello');
    assert.equal(r.res.writableFinished, true);
    assert.equal(r.ctx.attempts, 2);
  });

  it('honours Retry-After, and passes the answer through when it reaches past the deadline', () => {
    const h = harness('timeout: 3s\nretries: { attempts: 3, on: [503], backoff: 10ms..10ms, budget: 100% }');
    const r = h.request();
    answer(h.upstreams.last, 503, { 'retry-after': '1' });
    advance(999);
    assert.equal(h.upstreams.dispatches.length, 1);
    advance(1);
    assert.equal(h.upstreams.dispatches.length, 2);
    answer(h.upstreams.last, 503, { 'retry-after': '5' });
    assert.equal(r.res.status, 503, 'no time for a 5 s wait within a 3 s timeout');
    assert.match(r.ctx.detail!, /no time left/);
  });

  it('never repeats a POST that may have reached the app, unless it carries Idempotency-Key', () => {
    const h = harness('retries: { attempts: 3, on: [connect-failure, reset, 503], backoff: 10ms..10ms, budget: 100% }');
    const post = h.request({ method: 'POST' });
    answer(h.upstreams.last, 503);
    assert.equal(post.res.status, 503);
    assert.match(post.ctx.detail!, /POST without Idempotency-Key/);

    const reset = h.request({ method: 'POST' });
    fail(h.upstreams.last, 'ECONNRESET');
    assert.equal(reset.problem?.status, 502, 'a reset POST may have reached the app');

    const refused = h.request({ method: 'POST' });
    fail(h.upstreams.last, 'ECONNREFUSED');
    advance(10);
    answer(h.upstreams.last, 200);
    assert.equal(refused.res.status, 200, 'a refused connection provably never sent it');

    const keyed = h.request({ method: 'POST', headers: { 'idempotency-key': 'k1' } });
    answer(h.upstreams.last, 503);
    advance(10);
    answer(h.upstreams.last, 201);
    assert.equal(keyed.res.status, 201);
  });

  it('stops retrying when the budget is spent', () => {
    const h = harness('retries: { attempts: 3, on: [503], backoff: 10ms..10ms, budget: 0%, minRetriesPerSecond: 1 }');
    const first = h.request();
    answer(h.upstreams.last, 503);
    advance(10);
    answer(h.upstreams.last, 200);
    assert.equal(first.res.status, 200, 'the per-second floor allows one retry');
    const second = h.request();
    answer(h.upstreams.last, 503);
    assert.equal(second.res.status, 503);
    assert.match(second.ctx.detail!, /retry budget exhausted/);
    assert.equal(h.service.retriesDenied.value, 1);
    advance(1000);
    const third = h.request();
    answer(h.upstreams.last, 503);
    assert.equal(third.res.headersSent, false, 'a new second brings a new floor');
  });

  it('stops a retry in backoff when the client leaves', () => {
    const h = harness('retries: { attempts: 3, on: [503], backoff: 10ms..10ms, budget: 100% }');
    const r = h.request();
    answer(h.upstreams.last, 503);
    r.exchange.cancel();
    advance(100);
    assert.equal(h.upstreams.dispatches.length, 1);
    assert.equal(h.service.breaker.active, 0);
  });
});

describe('upstream exchange: circuit breaker (fake clock)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  it('admits maxRequests, queues maxPending, refuses the rest at once', async () => {
    const h = harness('timeout: 1s\ncircuitBreaker: { maxRequests: 1, maxPending: 1 }');
    const a = h.request();
    const b = h.request();
    const c = h.request();
    assert.equal(h.upstreams.dispatches.length, 1);
    assert.equal(c.problem?.code, 'circuit_open');
    assert.equal(c.res.status, 503);
    assert.equal(h.service.breaker.open, true);
    answer(h.upstreams.last, 200);
    assert.equal(a.res.status, 200);
    await new Promise((resolve) => process.nextTick(resolve));
    assert.equal(h.upstreams.dispatches.length, 2, 'the queued request got the freed slot');
    assert.equal(h.service.breaker.open, false);
    answer(h.upstreams.last, 200);
    assert.equal(b.res.status, 200);
    assert.equal(h.service.breaker.active, 0);
  });

  it('a queued request gives up at its deadline', () => {
    const h = harness('timeout: 1s\ncircuitBreaker: { maxRequests: 1, maxPending: 1 }');
    h.request();
    h.upstreams.last.handler.onHeaders(200, [], () => {}, ''); // a long download holds the slot
    const queued = h.request();
    advance(999);
    assert.equal(queued.problem?.code, undefined);
    advance(1);
    assert.equal(queued.problem?.code, 'circuit_open');
    assert.equal(h.service.breaker.pending, 0);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RetryConfig } from '../../../src/config/types.js';
import { attemptFailure, retryAfterMs, RetryPolicy } from '../../../src/core/traffic/retry-policy.js';

const base: RetryConfig = { attempts: 3, on: ['connect-failure', 'reset', '503'], backoff: { baseMs: 25, maxMs: 250 }, budget: 0.2, minRetriesPerSecond: 10 };

describe('retry policy', () => {
  it('retries the listed statuses, classes and failures only', () => {
    const p = new RetryPolicy({ ...base, on: ['connect-failure', '503', '4xx'] });
    assert.equal(p.retriesResponse(503, []), true);
    assert.equal(p.retriesResponse(502, []), false);
    assert.equal(p.retriesResponse(429, []), true);
    assert.equal(p.retriesResponse(200, []), false);
    assert.equal(p.retriesFailure('connect-failure'), true);
    assert.equal(p.retriesFailure('reset'), false);
    assert.equal(p.retriesFailure('timeout'), false, 'a timed-out try counts as 504, not listed');
    assert.equal(new RetryPolicy({ ...base, on: ['5xx'] }).retriesFailure('timeout'), true);
  });

  it('classifies a refused HTTP/2 stream as provably unsent', () => {
    const refused = Object.assign(new Error('refused'), { code: 'NGHTTP2_REFUSED_STREAM' });
    assert.equal(attemptFailure(refused), 'refused-stream');
    assert.equal(attemptFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'connect-failure');
  });

  it('repeats non-idempotent requests only when provably unsent or keyed (SPEC §5)', () => {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']) assert.equal(RetryPolicy.mayRepeat(method, {}, undefined), true, method);
    for (const method of ['POST', 'PATCH']) {
      assert.equal(RetryPolicy.mayRepeat(method, {}, undefined), false);
      assert.equal(RetryPolicy.mayRepeat(method, {}, 'reset'), false);
      assert.equal(RetryPolicy.mayRepeat(method, {}, 'timeout'), false);
      assert.equal(RetryPolicy.mayRepeat(method, {}, 'connect-failure'), true);
      assert.equal(RetryPolicy.mayRepeat(method, {}, 'refused-stream'), true);
      assert.equal(RetryPolicy.mayRepeat(method, { 'idempotency-key': 'k' }, undefined), true);
    }
  });

  it('backs off exponentially with jitter, within the configured bounds', () => {
    const low = new RetryPolicy(base, () => 0);
    const high = new RetryPolicy(base, () => 0.999999);
    assert.equal(low.backoffMs(1), 25);
    assert.ok(Math.abs(high.backoffMs(1) - 50) < 0.01);
    assert.ok(Math.abs(high.backoffMs(2) - 100) < 0.01);
    assert.ok(Math.abs(high.backoffMs(10) - 250) < 0.01, 'capped at the maximum');
    const random = new RetryPolicy(base);
    for (let i = 0; i < 1000; i++) {
      const wait = random.backoffMs(1 + (i % 6));
      assert.ok(wait >= 25 && wait <= 250, String(wait));
    }
  });

  it('reads Retry-After as seconds or as a date', () => {
    const h = (v: string) => ['Retry-After', v];
    assert.equal(retryAfterMs(h('2'), 0), 2000);
    assert.equal(retryAfterMs(h('Thu, 01 Jan 1970 00:00:05 GMT'), 1000), 4000);
    assert.equal(retryAfterMs(h('soon'), 0), undefined);
    assert.equal(retryAfterMs(['x', '1'], 0), undefined);
  });
});

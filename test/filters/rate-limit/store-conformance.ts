import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { RatePolicy } from '../../../src/filters/rate-limit/gcra.js';
import type { RateLimitStore } from '../../../src/filters/rate-limit/stores/store.js';

/**
 * What every rate-limit store must do, on the real clock: the rate is slow (3 per minute) so the
 * milliseconds a test takes cannot change an outcome. Each case uses its own keys.
 */
export function storeConformance(store: () => RateLimitStore): void {
  const policy: RatePolicy = { name: 'conformance', intervalMs: 20_000, burst: 3 };
  let n = 0;
  const freshKey = (): string => `conformance|${process.pid}|${Date.now()}|${n++}`;

  it('allows a full bucket, counting remaining down, then refuses', async () => {
    const key = freshKey();
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await store().take(key, policy));
    assert.deepEqual(decisions.map((d) => d.allowed), [true, true, true, false]);
    assert.deepEqual(decisions.slice(0, 3).map((d) => d.remaining), [2, 1, 0]);
    assert.equal(decisions[3]!.remaining, 0);
  });

  it('says when the next request will be allowed and when the bucket is full', async () => {
    const key = freshKey();
    const first = await store().take(key, policy);
    assert.ok(first.resetMs > 19_000 && first.resetMs <= 20_000, `reset after one request: ${first.resetMs}`);
    await store().take(key, policy);
    await store().take(key, policy);
    const refused = await store().take(key, policy);
    assert.ok(refused.retryAfterMs > 19_000 && refused.retryAfterMs <= 20_000, `retry after: ${refused.retryAfterMs}`);
    assert.ok(refused.resetMs > 59_000 && refused.resetMs <= 60_000, `reset when empty: ${refused.resetMs}`);
  });

  it('keeps clients apart', async () => {
    const a = freshKey();
    const b = freshKey();
    for (let i = 0; i < 3; i++) await store().take(a, policy);
    assert.equal((await store().take(a, policy)).allowed, false);
    assert.equal((await store().take(b, policy)).allowed, true);
  });

  it('does not charge refused requests', async () => {
    const key = freshKey();
    const big: RatePolicy = { ...policy, burst: 1 };
    await store().take(key, big);
    for (let i = 0; i < 5; i++) assert.equal((await store().take(key, big)).allowed, false);
    const refused = await store().take(key, big);
    assert.ok(refused.retryAfterMs <= 20_000, 'refusals did not push the next allowance further out');
  });
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FaultInjector } from '../../../src/core/traffic/fault.js';

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
}

describe('fault injection', () => {
  it('aborts and delays the configured shares, independently', () => {
    const f = new FaultInjector({ abort: { percent: 10, status: 503 }, delay: { percent: 30, durationMs: 200 } }, seeded(1));
    let aborts = 0;
    let delays = 0;
    for (let i = 0; i < 10_000; i++) {
      if (f.aborts()) aborts++;
      const d = f.delayMs();
      if (d > 0) {
        assert.equal(d, 200);
        delays++;
      }
    }
    assert.ok(Math.abs(aborts - 1000) < 150, `${aborts} aborts`);
    assert.ok(Math.abs(delays - 3000) < 200, `${delays} delays`);
    assert.equal(f.abortStatus, 503);
  });

  it('does nothing at 0% and everything at 100%', () => {
    const none = new FaultInjector({ abort: { percent: 0, status: 500 } });
    const all = new FaultInjector({ abort: { percent: 100, status: 500 }, delay: { percent: 100, durationMs: 5 } });
    for (let i = 0; i < 100; i++) {
      assert.equal(none.aborts(), false);
      assert.equal(none.delayMs(), 0);
      assert.equal(all.aborts(), true);
      assert.equal(all.delayMs(), 5);
    }
  });
});

import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { RetryBudget } from '../../../src/core/traffic/retry-budget.js';

describe('retry budget (fake clock)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('allows retries up to the ratio of recent requests', () => {
    const budget = new RetryBudget(0.2, 0);
    for (let i = 0; i < 100; i++) budget.recordRequest();
    let granted = 0;
    for (let i = 0; i < 100; i++) if (budget.tryRetry()) granted++;
    assert.equal(granted, 20);
    assert.equal(budget.denied, 80);
  });

  it('always allows minRetriesPerSecond, every second', () => {
    const budget = new RetryBudget(0, 3);
    let granted = 0;
    for (let i = 0; i < 10; i++) if (budget.tryRetry()) granted++;
    assert.equal(granted, 3);
    mock.timers.tick(1000);
    assert.equal(budget.tryRetry(), true);
  });

  it('forgets requests once they leave the window', () => {
    const budget = new RetryBudget(0.5, 0, 10_000);
    for (let i = 0; i < 10; i++) budget.recordRequest();
    mock.timers.tick(9_000);
    assert.equal(budget.tryRetry(), true, 'still inside the 10 s window');
    mock.timers.tick(1_000);
    assert.equal(budget.tryRetry(), false, 'the requests of 10 s ago no longer count');
  });

  it('caps total load when everything fails: requests × (1 + ratio) + floor × seconds', () => {
    const budget = new RetryBudget(0.2, 5);
    let attempts = 0;
    for (let second = 0; second < 20; second++) {
      for (let i = 0; i < 100; i++) {
        budget.recordRequest();
        attempts++;
        for (let retry = 0; retry < 4 && budget.tryRetry(); retry++) attempts++;
      }
      mock.timers.tick(1000);
    }
    assert.ok(attempts <= 2000 * 1.2 + 5 * 20, `${attempts} attempts`);
    assert.ok(attempts >= 2000 * 1.2, `${attempts} attempts: the budget is used`);
  });
});

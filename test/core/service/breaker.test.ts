import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GaugeChild } from '../../../src/core/metrics.js';
import { CircuitBreaker } from '../../../src/core/service/breaker.js';

function waiter(log: string[], name: string) {
  return { admitted: () => log.push(name) };
}

describe('circuit breaker', () => {
  it('admits, queues in order, refuses overflow, and hands freed slots to the queue', () => {
    const gauge = new GaugeChild();
    const b = new CircuitBreaker({ maxRequests: 2, maxPending: 2 }, gauge);
    const log: string[] = [];
    assert.equal(b.admit(waiter(log, 'a')), 'admitted');
    assert.equal(b.admit(waiter(log, 'b')), 'admitted');
    const c = waiter(log, 'c');
    assert.equal(b.admit(c), 'queued');
    assert.equal(b.admit(waiter(log, 'd')), 'queued');
    assert.equal(b.admit(waiter(log, 'e')), 'rejected');
    assert.equal(gauge.value, 1);
    assert.equal(b.rejected, 1);
    b.release();
    assert.deepEqual(log, ['c']);
    assert.equal(b.active, 2, 'the slot passed over');
    assert.equal(gauge.value, 0, 'room in the queue again');
    b.release();
    b.release();
    b.release();
    assert.deepEqual(log, ['c', 'd']);
    assert.equal(b.active, 0);
  });

  it('a withdrawn waiter leaves the queue', () => {
    const b = new CircuitBreaker({ maxRequests: 1, maxPending: 1 }, new GaugeChild());
    const log: string[] = [];
    b.admit(waiter(log, 'a'));
    const w = waiter(log, 'b');
    b.admit(w);
    b.withdraw(w);
    assert.equal(b.pending, 0);
    b.release();
    assert.deepEqual(log, []);
    assert.equal(b.active, 0);
  });

  it('maxPending 0 refuses as soon as the slots are full', () => {
    const b = new CircuitBreaker({ maxRequests: 1, maxPending: 0 }, new GaugeChild());
    assert.equal(b.admit(waiter([], 'a')), 'admitted');
    assert.equal(b.admit(waiter([], 'b')), 'rejected');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LeastRequestBalancer, RandomBalancer, RoundRobinBalancer } from '../../../src/core/service/balancer.js';
import { Endpoint } from '../../../src/core/service/endpoint.js';
import type { UpstreamTransport } from '../../../src/core/upstream/transport.js';

const noTransport = {} as UpstreamTransport;
function endpoints(n: number, weights: readonly number[] = []): Endpoint[] {
  return Array.from({ length: n }, (_, i) => new Endpoint({ url: `http://127.0.0.1:${9000 + i}`, host: '127.0.0.1', port: 9000 + i, protocol: 'http:', weight: weights[i] ?? 1, version: 'v1' }, noTransport));
}

function counts(eps: Endpoint[], pick: () => Endpoint, n: number): number[] {
  const out = eps.map(() => 0);
  for (let i = 0; i < n; i++) out[eps.indexOf(pick())]!++;
  return out;
}

/** A deterministic PRNG (mulberry32) so distribution checks are exact and repeatable. */
function seeded(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('balancers', () => {
  it('round-robin takes turns', () => {
    const eps = endpoints(3);
    const b = new RoundRobinBalancer();
    assert.deepEqual(Array.from({ length: 6 }, () => eps.indexOf(b.pick(eps))), [0, 1, 2, 0, 1, 2]);
  });

  it('round-robin survives the list shrinking', () => {
    const eps = endpoints(3);
    const b = new RoundRobinBalancer();
    b.pick(eps);
    b.pick(eps);
    b.pick(eps);
    const fewer = eps.slice(0, 2);
    assert.ok(fewer.includes(b.pick(fewer)));
  });

  it('least-request prefers the less busy of two and never picks the busiest of many', () => {
    const eps = endpoints(4);
    eps[0]!.active = 100;
    eps[1]!.active = 5;
    eps[2]!.active = 5;
    eps[3]!.active = 5;
    const b = new LeastRequestBalancer(seeded(7));
    for (let i = 0; i < 1000; i++) assert.notEqual(b.pick(eps), eps[0]);
  });

  it('least-request spreads evenly when loads are equal', () => {
    const eps = endpoints(4);
    const b = new LeastRequestBalancer(seeded(1));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[eps.indexOf(b.pick(eps))]!++;
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 600, counts.join(','));
  });

  it('random covers every endpoint', () => {
    const eps = endpoints(3);
    const b = new RandomBalancer(seeded(3));
    const seen = new Set<Endpoint>();
    for (let i = 0; i < 100; i++) seen.add(b.pick(eps));
    assert.equal(seen.size, 3);
  });

  it('weighted round-robin gives each endpoint exactly its share, interleaved', () => {
    const eps = endpoints(3, [5, 1, 1]);
    const b = new RoundRobinBalancer();
    const order = Array.from({ length: 7 }, () => eps.indexOf(b.pick(eps)));
    assert.deepEqual(order, [0, 0, 1, 0, 2, 0, 0], 'smooth: the heavy endpoint is not picked five times in a row');
    assert.deepEqual(counts(eps, () => b.pick(eps), 700), [500, 100, 100]);
  });

  it('weight 0 drains an endpoint', () => {
    const eps = endpoints(3, [1, 0, 1]);
    for (const b of [new RoundRobinBalancer(), new RandomBalancer(seeded(2)), new LeastRequestBalancer(seeded(2))]) {
      assert.equal(counts(eps, () => b.pick(eps), 300)[1], 0, b.constructor.name);
    }
  });

  it('random and least-request follow weights', () => {
    const eps = endpoints(2, [3, 1]);
    const random = counts(eps, () => new RandomBalancer(seeded(5)).pick(eps), 1);
    assert.equal(random.length, 2);
    const r = new RandomBalancer(seeded(5));
    const byRandom = counts(eps, () => r.pick(eps), 40_000);
    assert.ok(Math.abs(byRandom[0]! - 30_000) < 600, byRandom.join(','));
    const lr = new LeastRequestBalancer(seeded(6));
    const byLeast = counts(eps, () => lr.pick(eps), 40_000);
    assert.ok(byLeast[0]! > byLeast[1]! * 2, byLeast.join(','));
  });
});

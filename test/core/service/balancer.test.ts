import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LeastRequestBalancer, RandomBalancer, RoundRobinBalancer } from '../../../src/core/service/balancer.js';
import { Endpoint } from '../../../src/core/service/endpoint.js';
import type { UpstreamTransport } from '../../../src/core/upstream/transport.js';

const noTransport = {} as UpstreamTransport;
function endpoints(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) => new Endpoint({ url: `http://127.0.0.1:${9000 + i}`, host: '127.0.0.1', port: 9000 + i, protocol: 'http:', weight: 1, version: 'v1' }, noTransport));
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
});

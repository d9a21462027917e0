import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import type { TrafficRule } from '../../../src/config/types.js';
import { EndpointSet } from '../../../src/core/service/endpoint-set.js';
import { TrafficSplit } from '../../../src/core/service/split.js';
import { StickyKey } from '../../../src/core/service/sticky.js';
import { headerSource } from '../../helpers/headers.js';

function sets() {
  const byVersion = new Map<string, EndpointSet>();
  const setFor = (version: string) => {
    let set = byVersion.get(version);
    if (set === undefined) byVersion.set(version, (set = new EndpointSet(version, [], 'round-robin')));
    return set;
  };
  return { setFor, all: new EndpointSet('*', [], 'round-robin') };
}

function input(path: string, headers: IncomingHttpHeaders = {}) {
  return { method: 'GET', host: 'h', path, query: '', headers };
}

/** A deterministic PRNG (mulberry32). */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('traffic split', () => {
  const rules: TrafficRule[] = [
    { match: { headers: { 'x-canary': { exact: '1' } } }, to: { v2: 100 } },
    { match: { paths: ['/beta/*', '/labs/'] }, to: { v3: 1 } },
    { to: { v1: 95, v2: 5, v0: 0 } },
  ];

  it('matches rules in order: headers, then path prefixes, then the default rule', () => {
    const { setFor, all } = sets();
    const split = new TrafficSplit(rules, setFor, all, seeded(1));
    assert.equal(split.choose(input('/x', { 'x-canary': '1' }), undefined).version, 'v2');
    assert.equal(split.choose(input('/beta/a'), undefined).version, 'v3');
    assert.equal(split.choose(input('/labs'), undefined).version, 'v3');
    assert.notEqual(split.choose(input('/betamax'), undefined).version, 'v3', 'prefixes match on segment boundaries');
  });

  it('splits by weight within a fraction of a point; a 0 weight gets nothing', () => {
    const { setFor, all } = sets();
    const split = new TrafficSplit(rules, setFor, all, seeded(7));
    const count = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const v = split.choose(input('/x'), undefined).version;
      count.set(v, (count.get(v) ?? 0) + 1);
    }
    assert.ok(Math.abs(count.get('v2')! - 5000) < 300, String(count.get('v2')));
    assert.equal(count.get('v0'), undefined);
  });

  it('falls back to the whole service when no rule holds', () => {
    const { setFor, all } = sets();
    const split = new TrafficSplit([rules[0]!], setFor, all);
    assert.equal(split.choose(input('/x'), undefined), all);
  });

  it('a sticky key always picks the same version, and a weight change moves only the moved share', () => {
    const { setFor, all } = sets();
    const before = new TrafficSplit([{ to: { v1: 90, v2: 10 } }], setFor, all);
    const after = new TrafficSplit([{ to: { v1: 80, v2: 20 } }], setFor, all);
    const sticky = new StickyKey({ header: 'x-user' });
    let onV2Before = 0;
    for (let user = 0; user < 2000; user++) {
      const hash = sticky.hash(headerSource({ 'x-user': `user-${user}` }));
      const v = before.choose(input('/'), hash).version;
      assert.equal(before.choose(input('/'), hash).version, v);
      if (v === 'v2') {
        onV2Before++;
        assert.equal(after.choose(input('/'), hash).version, 'v2', 'users already on v2 stay there');
      }
    }
    assert.ok(onV2Before > 150 && onV2Before < 250, String(onV2Before));
  });
});

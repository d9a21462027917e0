import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Endpoint } from '../../../src/core/service/endpoint.js';
import { headerSource } from '../../helpers/headers.js';
import { cookieValue, hashString, mixHashes, rendezvous, StickyKey } from '../../../src/core/service/sticky.js';
import type { UpstreamTransport } from '../../../src/core/upstream/transport.js';

function endpoints(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) => new Endpoint({ url: `http://h:${i}`, host: 'h', port: i, protocol: 'http:', weight: 1, version: 'v1' }, {} as UpstreamTransport));
}

describe('sticky keys', () => {
  it('reads the key from a header or a cookie', () => {
    assert.equal(new StickyKey({ header: 'x-user' }).hash(headerSource({ 'x-user': 'ann' })), mixHashes(hashString('ann'), 0));
    assert.equal(new StickyKey({ header: 'x-user' }).hash(headerSource({})), undefined);
    assert.equal(new StickyKey({ cookie: 'sid' }).hash(headerSource({ cookie: 'a=1; sid=xyz; b=2' })), mixHashes(hashString('xyz'), 0));
    assert.equal(cookieValue('sidx=1; sid=2', 'sid'), '2');
    assert.equal(cookieValue('a=1', 'sid'), undefined);
    assert.equal(new StickyKey({ cookie: 'sid' }).hash(headerSource({ cookie: 'sid=' })), undefined, 'an empty key is no key');
  });

  it('rendezvous hashing is stable, spreads keys, and moves only the keys of a removed endpoint', () => {
    const eps = endpoints(4);
    const owner = new Map<number, Endpoint>();
    const perEndpoint = new Map<Endpoint, number>();
    for (let k = 0; k < 4000; k++) {
      const key = hashString(`k${k}`);
      const e = rendezvous(eps, key, undefined);
      assert.equal(rendezvous(eps, key, undefined), e);
      owner.set(key, e);
      perEndpoint.set(e, (perEndpoint.get(e) ?? 0) + 1);
    }
    for (const n of perEndpoint.values()) assert.ok(Math.abs(n - 1000) < 150, String(n));
    const fewer = eps.slice(0, 3);
    for (const [key, e] of owner) if (e !== eps[3]) assert.equal(rendezvous(fewer, key, undefined), e);
  });

  it('avoids the endpoint a failed attempt used', () => {
    const eps = endpoints(3);
    const key = hashString('ann');
    const first = rendezvous(eps, key, undefined);
    assert.notEqual(rendezvous(eps, key, first), first);
    assert.equal(rendezvous([first], key, first), first, 'unless it is the only one');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, type Instance } from '../../src/control-plane/registry.js';

function instance(id: string, service: string, lastSeen: number): Instance {
  return { id, service, version: 'v1', host: '127.0.0.1', port: 1000 + id.length, identity: `spiffe://shop/svc/${service}`, registeredAt: 0, lastSeen, health: 'healthy' };
}

describe('the registry', () => {
  it('removes instances whose sidecar stopped heart-beating, and reports the change', () => {
    let changes = 0;
    const registry = new Registry(() => changes++);
    registry.upsert(instance('a', 'billing', 1000));
    registry.upsert(instance('b', 'billing', 1000));
    registry.touch('b', 20_000);
    changes = 0;
    assert.deepEqual(registry.sweep(5000, false), ['a']);
    assert.equal(changes, 1);
    assert.deepEqual(registry.endpointsByService(), { billing: [{ host: '127.0.0.1', port: 1001, version: 'v1' }] });
    assert.deepEqual(registry.sweep(5000, false), []);
    assert.equal(changes, 1, 'no change, no push');
  });

  it('keeps restored instances until the grace ends, unless their sidecar registers again', () => {
    const registry = new Registry(() => undefined);
    registry.restore([{ id: 'a', service: 'billing', version: 'v1', host: '127.0.0.1', port: 1 }, { id: 'b', service: 'orders', version: 'v2', host: '127.0.0.1', port: 2 }], 0);
    assert.deepEqual(registry.sweep(Number.MAX_SAFE_INTEGER, false), [], 'restored instances are not heart-beat checked');
    registry.upsert(instance('a', 'billing', 10));
    assert.deepEqual(registry.sweep(0, true), ['b']);
    assert.deepEqual(registry.list().map((i) => [i.id, i.health]), [['a', 'healthy']]);
  });
});

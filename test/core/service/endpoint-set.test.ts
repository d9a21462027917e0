import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyMetrics } from '../../../src/core/proxy-metrics.js';
import { loadConfigString } from '../../../src/config/load.js';
import { buildServices } from '../../../src/core/runtime.js';
import type { UpstreamTransport } from '../../../src/core/upstream/transport.js';

const noTransport = () => ({}) as UpstreamTransport;

function service(yaml: string, options?: { callerSide?: boolean }) {
  const loaded = loadConfigString(`services:\n  app:\n${yaml.replace(/^/gm, '    ')}\n`);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  return buildServices(loaded.config, new ProxyMetrics('test'), undefined, noTransport, options).get('app')!;
}

describe('service endpoints by version', () => {
  const yaml = `endpoints:
  - { url: "http://127.0.0.1:1", version: v1 }
  - { url: "http://127.0.0.1:2", version: v1 }
  - { url: "http://127.0.0.1:3", version: v2 }
traffic: [{ to: { v1: 1, v3: 1 } }]
retries: { attempts: 3 }
mirror: { to: v2 }
fault: { abort: { percent: 1, status: 500 } }`;

  it('groups endpoints by version, with an empty set for a version without endpoints', () => {
    const s = service(yaml);
    assert.deepEqual([...s.versions.keys()].sort(), ['v1', 'v2', 'v3']);
    assert.equal(s.versions.get('v1')!.availableCount, 2);
    assert.equal(s.versions.get('v3')!.pick(undefined, undefined), undefined);
    assert.equal(s.all.availableCount, 3);
  });

  it('a retry avoids the endpoint that failed when another is available', () => {
    const v1 = service(yaml).versions.get('v1')!;
    for (let i = 0; i < 20; i++) {
      const first = v1.pick(undefined, undefined)!;
      assert.notEqual(v1.pick(first, undefined), first);
    }
  });

  it('availability changes reach every set', () => {
    const s = service(yaml);
    const [a] = s.versions.get('v1')!.endpoints;
    a!.ejected = true;
    s.availabilityChanged();
    assert.equal(s.versions.get('v1')!.availableCount, 1);
    assert.equal(s.all.availableCount, 2);
  });

  it('the callee side of a sidecar gets no retries, split, mirror or fault', () => {
    const caller = service(yaml);
    assert.ok(caller.retryPolicy && caller.split && caller.mirror && caller.fault);
    const callee = service(yaml, { callerSide: false });
    assert.equal(callee.retryPolicy, undefined);
    assert.equal(callee.split, undefined);
    assert.equal(callee.mirror, undefined);
    assert.equal(callee.fault, undefined);
  });

  it('a reload keeps breaker counts and the retry budget while their settings stay', () => {
    const loaded = loadConfigString(`services:\n  app:\n${yaml.replace(/^/gm, '    ')}\n`);
    if (!loaded.ok) throw new Error('config');
    const metrics = new ProxyMetrics('test');
    const first = buildServices(loaded.config, metrics, undefined, noTransport);
    first.get('app')!.breaker.active = 3;
    const second = buildServices(loaded.config, metrics, first, noTransport).get('app')!;
    assert.equal(second.breaker.active, 3);
    assert.equal(second.retryBudget, first.get('app')!.retryBudget);
  });
});

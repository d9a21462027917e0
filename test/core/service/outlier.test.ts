import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Endpoint } from '../../../src/core/service/endpoint.js';
import { OutlierDetector } from '../../../src/core/service/outlier.js';
import type { UpstreamTransport } from '../../../src/core/upstream/transport.js';

function setup(n: number, maxEjectedPercent = 50) {
  const endpoints = Array.from({ length: n }, (_, i) => new Endpoint({ url: `http://h:${i}`, host: 'h', port: i, protocol: 'http:', weight: 1, version: 'v1' }, {} as UpstreamTransport));
  const changes: string[] = [];
  const host = { endpoints, availabilityChanged: (e: Endpoint) => changes.push(`${e.config.port}:${e.ejected ? 'out' : 'in'}`) };
  for (const e of endpoints) e.owner = host;
  const detector = new OutlierDetector({ consecutive5xx: 3, consecutiveGatewayFailure: 2, ejectionTimeMs: 1000, maxEjectionTimeMs: 2500, maxEjectedPercent }, host);
  return { endpoints, changes, detector };
}

describe('outlier detection (fake clock)', () => {
  it('ejects after consecutive 5xx, re-admits after ejectionTime × ejections, capped', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    try {
      const { endpoints, changes, detector } = setup(4);
      const e = endpoints[0]!;
      detector.record5xx(e);
      detector.record5xx(e);
      detector.recordSuccess(e);
      detector.record5xx(e);
      detector.record5xx(e);
      assert.equal(e.ejected, false, 'a success resets the streak');
      detector.record5xx(e);
      assert.equal(e.ejected, true);
      mock.timers.tick(999);
      assert.equal(e.ejected, true);
      mock.timers.tick(1);
      assert.equal(e.ejected, false);
      for (let i = 0; i < 3; i++) detector.record5xx(e);
      mock.timers.tick(1999);
      assert.equal(e.ejected, true, 'second ejection lasts twice as long');
      mock.timers.tick(1);
      assert.equal(e.ejected, false);
      for (let i = 0; i < 3; i++) detector.record5xx(e);
      mock.timers.tick(2500);
      assert.equal(e.ejected, false, 'third ejection capped at maxEjectionTime');
      assert.deepEqual(changes, ['0:out', '0:in', '0:out', '0:in', '0:out', '0:in']);
    } finally {
      mock.timers.reset();
    }
  });

  it('ejects on consecutive gateway failures', () => {
    const { endpoints, detector } = setup(2);
    detector.recordGatewayFailure(endpoints[1]!);
    assert.equal(endpoints[1]!.ejected, false);
    detector.recordGatewayFailure(endpoints[1]!);
    assert.equal(endpoints[1]!.ejected, true);
  });

  it('never ejects more than maxEjectedPercent, and always leaves one endpoint', () => {
    const { endpoints, detector } = setup(4, 50);
    for (const e of endpoints) for (let i = 0; i < 2; i++) detector.recordGatewayFailure(e);
    assert.equal(endpoints.filter((e) => e.ejected).length, 2);
    const single = setup(1, 100);
    for (let i = 0; i < 5; i++) single.detector.recordGatewayFailure(single.endpoints[0]!);
    assert.equal(single.endpoints[0]!.ejected, false);
  });
});

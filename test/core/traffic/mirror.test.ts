import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CounterChild } from '../../../src/core/metrics.js';
import { Endpoint } from '../../../src/core/service/endpoint.js';
import { EndpointSet } from '../../../src/core/service/endpoint-set.js';
import { Mirror } from '../../../src/core/traffic/mirror.js';
import type { UpstreamHandler, UpstreamRequest, UpstreamTransport } from '../../../src/core/upstream/transport.js';

function setup(maxInFlight: number) {
  const sent: { request: UpstreamRequest; handler: UpstreamHandler }[] = [];
  const transport = { dispatch: (request, handler) => void sent.push({ request, handler }) } as Pick<UpstreamTransport, 'dispatch'> as UpstreamTransport;
  const endpoint = new Endpoint({ url: 'http://h:1', host: 'h', port: 1, protocol: 'http:', weight: 1, version: 'v2' }, transport);
  const counters = { sent: new CounterChild(), skipped: new CounterChild() };
  const mirror = new Mirror(new EndpointSet('v2', [endpoint], 'round-robin'), 100, maxInFlight, counters.sent, counters.skipped);
  return { sent, mirror, counters };
}

const request = { method: 'POST', path: '/a?b=1', headers: ['host', 'x'], body: Buffer.from('hi'), timeoutMs: 1000, idleTimeoutMs: 1000 };

describe('mirror', () => {
  it('sends a marked copy and drops its answer', () => {
    const { sent, mirror, counters } = setup(10);
    mirror.send(request);
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0]!.request.headers, ['host', 'x', 'x-sekisho-mirror', '1']);
    assert.equal(sent[0]!.request.body, request.body);
    assert.equal(request.headers.length, 2, 'the real request\'s headers are untouched');
    assert.equal(mirror.inFlight, 1);
    assert.equal(sent[0]!.handler.onHeaders(500, [], () => {}, ''), true);
    sent[0]!.handler.onComplete(null);
    assert.equal(mirror.inFlight, 0);
    assert.equal(counters.sent.value, 1);
  });

  it('skips copies beyond maxInFlight instead of queueing them', () => {
    const { sent, mirror, counters } = setup(2);
    for (let i = 0; i < 5; i++) mirror.send(request);
    assert.equal(sent.length, 2);
    assert.equal(counters.skipped.value, 3);
    sent[0]!.handler.onError(new Error('down'));
    mirror.send(request);
    assert.equal(sent.length, 3);
  });

  it('selects its percentage of requests', () => {
    let i = 0;
    const draws = [0.05, 0.5, 0.09, 0.95];
    const m = new Mirror(new EndpointSet('v2', [], 'random'), 10, 1, new CounterChild(), new CounterChild(), () => draws[i++]!);
    assert.deepEqual(draws.map(() => m.selects()), [true, false, true, false]);
  });
});

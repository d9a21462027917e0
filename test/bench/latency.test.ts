// Smoke test of scenario 3: the open-loop latency run against every available proxy, at half of
// nginx's maximum from the same bench, with percentiles read from h2load's per-request log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addedLatency } from '../../bench/scenarios/added-latency.js';
import { measuredOutcomes, quickBench } from './quick.js';

test('bench scenario 3 measures latency at a constant rate for every available proxy', { timeout: 90_000 }, async (t) => {
  const ctx = await quickBench(t);
  if (!ctx) return;
  const { data, section } = await addedLatency(ctx);
  assert.ok(data, `scenario 3 skipped: ${section.skipped}`);
  assert.ok(data.rps >= 100, 'the rate comes from nginx’s measured maximum');
  for (const { target, result } of measuredOutcomes(t, data.outcomes)) {
    assert.equal(result.errors, 0, `${target.name} answered with errors`);
    assert.ok(result.achievedRps > 0, `${target.name}: no request answered`);
    assert.ok(result.p50Ms > 0 && result.p99Ms.median >= result.p50Ms, `${target.name}: percentiles out of order`);
  }
  assert.ok(section.checks.some((c) => c.goal.startsWith('S3')));
});

// Smoke test of scenario 2: Sekisho with JWT (ES256), rate limit and CORS beside plain Sekisho.
// Until the build enforces the edge policies, the scenario must skip and say what is missing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edgePolicyThroughput } from '../../bench/scenarios/edge-policies.js';
import { quickBench } from './quick.js';

test('bench scenario 2 measures the edge policies, or skips with the reason', { timeout: 90_000 }, async (t) => {
  const ctx = await quickBench(t);
  if (!ctx) return;
  const { data, section } = await edgePolicyThroughput(ctx);
  if (section.skipped) {
    assert.match(section.skipped, /\S/);
    t.skip(`scenario 2: ${section.skipped}`);
    return;
  }
  assert.ok(data.withPolicies && data.plain, section.table.map((r) => r.join(' | ')).join('\n'));
  assert.equal(data.withPolicies.errors, 0, 'requests with a valid token were refused');
  assert.ok(data.withPolicies.rps.median > 0 && data.plain.rps.median > 0);
  assert.ok(section.checks[0]?.measured.endsWith('×'), 'the ratio to plain Sekisho is reported');
});

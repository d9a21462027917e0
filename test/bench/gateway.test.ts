// Smoke test of scenario 1: every peer starts from its generated config, proves it routes and
// strips the prefix (the upstream answers only /bench), takes a second of wrk load without a
// failed request, and lands in the report's table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { markdownTable } from '../../bench/lib/report.js';
import { gatewayThroughput } from '../../bench/scenarios/gateway-throughput.js';
import { measuredOutcomes, quickBench } from './quick.js';

test('bench scenario 1 measures every available gateway', { timeout: 90_000 }, async (t) => {
  const ctx = await quickBench(t);
  if (!ctx) return;
  const { data, section } = await gatewayThroughput(ctx);
  let measured = 0;
  for (const { target, result } of measuredOutcomes(t, data.outcomes)) {
    assert.equal(result.errors, 0, `${target.name} answered with errors`);
    assert.ok(result.rps.median > 0, `${target.name}: no throughput`);
    measured++;
  }
  assert.ok(data.outcomes.some((o) => o.target.name === 'Sekisho' && o.result), 'Sekisho itself was measured');
  assert.equal(section.table.length, data.outcomes.length + 1, 'one table row per target');
  assert.match(markdownTable(section.table), /\n\| Sekisho \| [\d,]+ \(±/);
  t.diagnostic(`${measured} targets measured`);
});

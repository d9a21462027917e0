// Smoke test of scenarios 4 and 5: the mTLS hop through the nginx pair and through Sekisho's
// sidecars, sidecar memory, and the control-plane push to simulated sidecars. The Sekisho parts
// skip, saying why, while the build has no `sekisho sidecar` / `control-plane`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlPlanePush } from '../../bench/scenarios/control-plane-push.js';
import { meshHop, sekishoPair } from '../../bench/scenarios/mesh.js';
import { sidecarMemory } from '../../bench/scenarios/sidecar-memory.js';
import { meshUnavailable } from '../../bench/peers/sekisho-mesh.js';
import { measuredOutcomes, quickBench } from './quick.js';

test('bench scenarios 4 and 5 run end to end', { timeout: 120_000 }, async (t) => {
  const ctx = await quickBench(t);
  if (!ctx) return;

  await t.test('scenario 4: direct, the nginx mTLS pair and the Sekisho sidecars', async (t) => {
    const { data } = await meshHop(ctx);
    for (const { target, result } of measuredOutcomes(t, data.outcomes)) {
      assert.ok(result.latency.achievedRps > 0 && result.throughput.rps.median > 0, `${target.name}: nothing answered`);
      // The fixed peers must be flawless; the sidecars' failures are a finding the table reports.
      if (target !== sekishoPair) assert.equal(result.latency.errors + result.throughput.errors, 0, `${target.name} answered with errors`);
      else t.diagnostic(`Sekisho sidecars: ${result.latency.errors} failed at 1,000 req/s, ${result.throughput.errors} at full load`);
    }
  });

  const mesh = meshUnavailable();
  await t.test('scenario 5a: sidecar memory', { skip: mesh && `scenario 5a: ${mesh}` }, async () => {
    const { data } = await sidecarMemory(ctx);
    for (const side of [data.app, data.client]) {
      assert.ok(side, 'both sidecars measured');
      assert.ok(side.idleBytes > 10 * 2 ** 20 && side.peakBytes >= side.idleBytes, 'RSS read from /proc');
      assert.ok(side.idlePrivateBytes > 2 ** 20 && side.idlePrivateBytes < side.idleBytes, 'private pages are a part of the RSS');
      assert.ok(side.peakPrivateBytes >= side.idlePrivateBytes && side.peakPrivateBytes < side.peakBytes, 'private peak within the RSS peak');
      assert.ok(data.bareNode && data.bareNode.rssBytes < side.idleBytes, 'a node that runs nothing is smaller than a sidecar');
    }
    assert.ok(data.bareNode!.privateBytes > 0 && data.bareNode!.privateBytes < data.bareNode!.rssBytes, 'bare node: private pages are a part of its RSS');
  });

  await t.test('scenario 5b: control-plane push to simulated sidecars', { skip: mesh && `scenario 5b: ${mesh}` }, async () => {
    const { data, section } = await controlPlanePush(ctx);
    assert.equal(section.skipped, undefined, section.skipped);
    assert.equal(data.sidecars, ctx.settings.simulatedSidecars);
    assert.ok(data.ackMs && data.ackMs.median > 0 && data.ackMs.runs === ctx.settings.runs);
  });
});

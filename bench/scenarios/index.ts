/** The scenarios of issue 6, by the id `--only` takes, in the order a full run takes them. */
import type { BenchContext } from '../lib/context.js';
import type { Section } from '../lib/report.js';
import { addedLatency } from './added-latency.js';
import { controlPlanePush } from './control-plane-push.js';
import { edgePolicyThroughput } from './edge-policies.js';
import { gatewayThroughput } from './gateway-throughput.js';
import { meshHop } from './mesh.js';
import { sidecarMemory } from './sidecar-memory.js';

export interface Scenario {
  readonly title: string;
  run(ctx: BenchContext): Promise<Section[]>;
}

/** One part of a scenario; a failure becomes a failed section so the other scenarios still run. */
async function part(ctx: BenchContext, title: string, run: (ctx: BenchContext) => Promise<{ section: Section }>): Promise<Section> {
  try {
    return (await run(ctx)).section;
  } catch (error) {
    const message = (error as Error).message;
    ctx.progress(`${title}: FAILED ${message}`);
    return { title, setup: '', table: [], notes: [], checks: [], failed: message };
  }
}

export const SCENARIOS = {
  s1: { title: 'gateway maximum throughput', run: async (ctx) => [await part(ctx, 'Scenario 1', gatewayThroughput)] },
  s2: { title: 'gateway with JWT, rate limit, CORS', run: async (ctx) => [await part(ctx, 'Scenario 2', edgePolicyThroughput)] },
  s3: { title: 'latency added at a constant rate', run: async (ctx) => [await part(ctx, 'Scenario 3', addedLatency)] },
  s4: { title: 'mesh hop through two sidecars', run: async (ctx) => [await part(ctx, 'Scenario 4', meshHop)] },
  s5: {
    title: 'sidecar memory and control-plane push',
    run: async (ctx) => [await part(ctx, 'Scenario 5a', sidecarMemory), await part(ctx, 'Scenario 5b', controlPlanePush)],
  },
} satisfies Record<string, Scenario>;

export type ScenarioId = keyof typeof SCENARIOS;

/**
 * `npm run bench`: Sekisho and its peers measured in one run, printed as Markdown and written to
 * bench/results/latest.md (and latest.json).
 *
 *   npm run bench                            every scenario, 3 runs × 5 s (under 10 min on 2 cores)
 *   npm run bench -- --only=s1,s3            some scenarios (s1 … s5)
 *   npm run bench -- --runs=5 --seconds=10   longer, steadier
 *   npm run bench -- --sidecars=100          fewer simulated sidecars in the push scenario
 *   npm run bench -- --out=FILE              write the Markdown elsewhere
 *   npm run bench -- --keep                  keep the generated configs and every process's output
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openBench } from './lib/context.js';
import { H2LOAD, WRK } from './lib/load.js';
import { LOAD_CORE, pinning, stopEverything } from './lib/process.js';
import { renderReport, type BenchSettings, type Section } from './lib/report.js';
import { SCENARIOS, type ScenarioId } from './scenarios/index.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    sidecars: { type: 'string', default: '500' },
    out: { type: 'string', default: join(import.meta.dirname, 'results/latest.md') },
    keep: { type: 'boolean', default: false },
  },
});

const settings: BenchSettings = {
  runs: Number(values.runs),
  seconds: Number(values.seconds),
  warmupSeconds: Number(values.warmup),
  simulatedSidecars: Number(values.sidecars),
};
const selected = (values.only?.split(',') ?? Object.keys(SCENARIOS)) as ScenarioId[];
for (const id of selected) if (!(id in SCENARIOS)) throw new Error(`unknown scenario ${id} (known: ${Object.keys(SCENARIOS).join(', ')})`);
for (const [tool, found] of [['wrk', WRK], ['h2load', H2LOAD]] as const) {
  if (!found) throw new Error(`${tool} is not installed (Debian: ${tool === 'wrk' ? 'wrk' : 'nghttp2-client'}); it generates the load`);
}

// The harness itself waits on the load core, never on the proxies' core.
if (pinning) spawnSync('taskset', ['-pc', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });

const startedAt = new Date();
const progress = (message: string): void => void process.stderr.write(`[bench ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)}s] ${message}\n`);
process.on('SIGINT', () => void stopEverything().then(() => process.exit(130)));

const sections: Section[] = [];
const bench = await openBench(settings, progress, values.keep);
try {
  for (const id of selected) {
    progress(`scenario ${id}: ${SCENARIOS[id].title}`);
    sections.push(...(await SCENARIOS[id].run(bench.ctx)));
  }
} finally {
  await bench.close();
}

const markdown = renderReport(sections, settings, startedAt, Date.now() - startedAt.getTime());
const out = resolve(values.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, markdown);
writeFileSync(out.replace(/\.md$/, '.json'), `${JSON.stringify({ startedAt, settings, sections }, null, 2)}\n`);
process.stdout.write(`${markdown}\n`);
progress(`written to ${out}`);

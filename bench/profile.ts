/**
 * A CPU profile of the Sekisho gateway under scenario-1 load, summarised for tuning:
 *
 *   npx tsx bench/profile.ts [--seconds=10] [--connections=50] [--access-log]
 *
 * Runs the gateway with `node --cpu-prof` on the proxy core, loads it with wrk, stops it (the
 * profile is written on exit), and prints the top functions by self time plus self time by
 * origin (Sekisho's code, each dependency, Node internals, GC). The summary goes to
 * bench/results/profile.md; the raw `.cpuprofile` (open it in Chrome DevTools) stays where printed.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { folderFor, openBench, withTarget } from './lib/context.js';
import { THROUGHPUT_CONNECTIONS } from './lib/measurements.js';
import { measureThroughput } from './lib/load.js';
import { selfTimeByOrigin, selfTimes, type CpuProfile, type SelfTime } from './lib/cpu-profile.js';
import { formatRps, markdownTable } from './lib/report.js';
import { sekishoGateway } from './peers/sekisho.js';

function percent(part: number, whole: number): string {
  return `${((part / whole) * 100).toFixed(1)} %`;
}

/** A function name as inline code, even when it contains backticks (V8 names regexes by their source). */
function inlineCode(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function functionTable(rows: readonly SelfTime[], busy: number): string {
  return markdownTable([['function', 'where', 'self time', 'share'], ...rows.map((t) => [inlineCode(t.name), t.location || t.origin, `${(t.micros / 1000).toFixed(0)} ms`, percent(t.micros, busy)])]);
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: String(THROUGHPUT_CONNECTIONS) },
    'access-log': { type: 'boolean', default: false },
    top: { type: 'string', default: '30' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const progress = (message: string): void => void process.stderr.write(`[profile] ${message}\n`);
const bench = await openBench({ runs: 1, seconds, warmupSeconds: 0, simulatedSidecars: 0 }, progress);
const profileDir = folderFor(bench.ctx.workDir, 'cpu-profile');
const target = sekishoGateway({
  name: 'Sekisho (profiled)',
  logLevel: values['access-log'] ? 'info' : 'warn',
  nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir],
});
let rps = 0;
let profileFile = '';
try {
  progress(`wrk -c${connections} for ${seconds} s against the gateway under --cpu-prof…`);
  rps = (await withTarget(bench.ctx, target, (started) => measureThroughput({ url: started.url, connections, seconds }))).requestsPerSecond;
  const written = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!written) throw new Error(`the gateway wrote no profile into ${profileDir}`);
  profileFile = join(tmpdir(), `sekisho-gateway-${Date.now()}.cpuprofile`);
  copyFileSync(join(profileDir, written), profileFile);
} finally {
  await bench.close();
}

// Only the load window counts: module loading and config compilation are not the hot path.
const times = selfTimes(JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile, seconds * 1e6);
const total = times.reduce((sum, t) => sum + t.micros, 0);
const busy = times.filter((t) => t.name !== '(idle)').reduce((sum, t) => sum + t.micros, 0);
const top = times.filter((t) => t.name !== '(idle)').slice(0, Number(values.top));
const markdown = [
  '# CPU profile: Sekisho gateway under scenario-1 load',
  '',
  `\`node --cpu-prof\`, ${seconds} s of \`wrk -t1 -c${connections}\` (${formatRps(rps)} req/s while profiled, access log ${values['access-log'] ? 'on' : 'off'}), ${new Date().toISOString()}. Only the last ${seconds} s of the profile (the load) count; the gateway was busy ${percent(busy, total)} of it, and shares below are of busy time. Raw profile: \`${profileFile}\`.`,
  '',
  '## Self time by origin',
  '',
  markdownTable([['origin', 'self time', 'share'], ...selfTimeByOrigin(times.filter((t) => t.name !== '(idle)')).map((o) => [o.origin, `${(o.micros / 1000).toFixed(0)} ms`, percent(o.micros, busy)])]),
  '',
  `## Top ${top.length} functions by self time`,
  '',
  functionTable(top, busy),
  '',
  '## Sekisho’s own functions by self time',
  '',
  functionTable(times.filter((t) => t.origin === 'sekisho').slice(0, Number(values.top)), busy),
  '',
].join('\n');
const out = join(import.meta.dirname, 'results/profile.md');
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(out, markdown);
process.stdout.write(`${markdown}\n`);
progress(`written to ${out}; raw profile ${profileFile}`);

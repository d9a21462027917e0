/** Reading a V8 `.cpuprofile`: where the CPU time went, by function and by origin. */
import { ROOT } from './process.js';

/** The parts of a V8 `.cpuprofile` the summary reads. */
export interface CpuProfile {
  readonly nodes: readonly { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time of one function (by name and source line). */
export interface SelfTime {
  readonly name: string;
  readonly location: string;
  readonly origin: string;
  readonly micros: number;
}

/** Where a function comes from: `sekisho`, a package name, `node` internals, or V8's own entries. */
function originOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : 'native';
  if (url.startsWith('node:')) return 'node';
  if (url.startsWith('wasm://')) return 'wasm (undici’s llhttp)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  return url.includes('/dist/') ? 'sekisho' : 'other';
}

/**
 * Self time per function (by name and source line), largest first. With `windowMicros`, only the
 * profile's last stretch of that length counts (the load, without the process's start-up).
 */
export function selfTimes(profile: CpuProfile, windowMicros = Number.POSITIVE_INFINITY): SelfTime[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const duration = profile.timeDeltas.reduce((sum, d) => sum + d, 0);
  const from = duration - windowMicros;
  const totals = new Map<string, SelfTime>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from) return;
    const frame = byNode.get(id)!;
    const location = frame.url === '' ? '' : `${frame.url.replace(`file://${ROOT}/`, '')}:${frame.lineNumber + 1}`;
    const name = frame.functionName || '(anonymous)';
    const key = `${name} ${location}`;
    const micros = (totals.get(key)?.micros ?? 0) + delta;
    totals.set(key, { name, location, origin: originOf(frame.url, frame.functionName), micros });
  });
  return [...totals.values()].sort((a, b) => b.micros - a.micros);
}

/** Self time summed by origin, largest first. */
export function selfTimeByOrigin(times: readonly SelfTime[]): { origin: string; micros: number }[] {
  const sums = new Map<string, number>();
  for (const t of times) sums.set(t.origin, (sums.get(t.origin) ?? 0) + t.micros);
  return [...sums].map(([origin, micros]) => ({ origin, micros })).sort((a, b) => b.micros - a.micros);
}

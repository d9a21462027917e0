/**
 * What a scenario hands back: its Markdown section (setup, table, notes), the targets it
 * checked, and whether it ran at all. `renderReport` joins the sections into `latest.md`.
 */
import { cpus, totalmem } from 'node:os';
import { pinning } from './process.js';
import type { Summary } from './stats.js';

export interface TargetCheck {
  /** The goal as the issue states it, e.g. `scenario 1: ≥ 1.2× the fastest Node.js peer`. */
  readonly goal: string;
  readonly measured: string;
  /** undefined when it could not be measured in this run. */
  readonly met: boolean | undefined;
}

export interface Section {
  readonly title: string;
  /** How the numbers were taken, one paragraph. */
  readonly setup: string;
  /** Header row first. Empty when the scenario was skipped. */
  readonly table: readonly (readonly string[])[];
  readonly notes: readonly string[];
  readonly checks: readonly TargetCheck[];
  /** Why the whole scenario did not run (a prerequisite is missing). */
  readonly skipped?: string;
  /** Why the scenario broke off (a process failed to start or answer). */
  readonly failed?: string;
}

export interface BenchSettings {
  /** Length of one measured run. */
  readonly seconds: number;
  /** Measured runs per figure (the median is reported). */
  readonly runs: number;
  /** Unmeasured load before the runs (JIT, connection pools). */
  readonly warmupSeconds: number;
  /** Sidecars connected to the control plane in the push scenario (the issue says 500). */
  readonly simulatedSidecars: number;
}

export function markdownTable(rows: readonly (readonly string[])[]): string {
  const [header, ...body] = rows;
  if (!header) return '';
  const line = (cells: readonly string[]): string => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}

export function formatRps(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return `${value.toFixed(Math.abs(value) < 10 ? 2 : 1)} ms`;
}

export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(2)}×`;
}

/** `12,345 (±3.1 %)`: the median and the half-range of the runs around it. */
export function formatSummary(summary: Summary, format: (n: number) => string = formatRps): string {
  return `${format(summary.median)} (±${((summary.spread / 2) * 100).toFixed(1)} %)`;
}

function renderSection(section: Section): string {
  const parts = [`## ${section.title}`, ''];
  if (section.skipped) return [...parts, `_Skipped: ${section.skipped}_`, ''].join('\n');
  if (section.failed) return [...parts, '**Failed:**', '', '```', section.failed, '```', ''].join('\n');
  parts.push(section.setup, '', markdownTable(section.table), '');
  for (const note of section.notes) parts.push(`- ${note}`);
  if (section.notes.length) parts.push('');
  return parts.join('\n');
}

function renderChecks(sections: readonly Section[]): string {
  const rows = sections.flatMap((s) => s.checks.map((c) => [c.goal, c.measured, c.met === undefined ? 'not measured' : c.met ? 'met' : 'NOT met']));
  return rows.length ? ['## Targets', '', markdownTable([['target', 'measured', 'status'], ...rows]), ''].join('\n') : '';
}

export function renderReport(sections: readonly Section[], settings: BenchSettings, startedAt: Date, elapsedMs: number): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
  const layout = pinning
    ? 'every proxy on core 1 (`taskset -c 1`, one worker/thread each); load generator and upstream nginx on core 0'
    : 'no CPU pinning (fewer than two cores or no taskset): numbers are not comparable with pinned runs';
  return [
    '# Sekisho benchmarks',
    '',
    `Run ${startedAt.toISOString()} in ${(elapsedMs / 60_000).toFixed(1)} min on ${machine}; ${layout}.`,
    `Each figure is the median of ${settings.runs} run(s) of ${settings.seconds} s after ${settings.warmupSeconds} s of warm-up; ±% is half the range of the runs.`,
    'Upstream: nginx answering `GET /bench` with 1 KiB. Reproduce with `npm run build && npm run bench` (see bench/README.md).',
    '',
    renderChecks(sections),
    ...sections.map(renderSection),
  ].join('\n');
}

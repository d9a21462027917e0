import type { Agent } from 'undici';
import { client, send, type Reply } from './http.js';

export interface LoadResult {
  readonly replies: Reply[];
  /** Requests that failed at the socket level (no HTTP answer at all). */
  readonly errors: Error[];
  readonly elapsedMs: number;
}

/**
 * Sends `count` requests with `concurrency` in flight, each made by `request(i)`; bounded in
 * count and, by `maxMs`, in time (it throws when the load takes longer).
 */
export async function runLoad(
  count: number,
  concurrency: number,
  request: (i: number, dispatcher: Agent) => Promise<Reply>,
  maxMs = 30_000,
  /** Stops sending (before `count`) once this returns true. */
  stopWhen: () => boolean = () => false,
): Promise<LoadResult> {
  const dispatcher = client();
  const replies: Reply[] = [];
  const errors: Error[] = [];
  const started = Date.now();
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count && !stopWhen()) {
      if (Date.now() - started > maxMs) throw new Error(`load of ${count} requests exceeded ${maxMs} ms`);
      const i = next++;
      try {
        replies.push(await request(i, dispatcher));
      } catch (error) {
        errors.push(error as Error);
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await dispatcher.close();
  }
  return { replies, errors, elapsedMs: Date.now() - started };
}

/** A simple GET load on one URL. */
export function getLoad(url: string, count: number, concurrency: number, headers?: Record<string, string>): Promise<LoadResult> {
  return runLoad(count, concurrency, (_i, dispatcher) => send(url, { headers, dispatcher }));
}

/** The value of a Prometheus sample, summed over the series whose labels include `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

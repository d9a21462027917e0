import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { oneServiceGateway } from '../helpers/configs.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';

// Larger than the 100 MB so that “bounded” has room to be told apart from “buffered”:
// a proxy holding a body would grow by at least SIZE; GC slack alone stays far below it.
const SIZE = 256 * 1024 * 1024;
const MAX_GROWTH_KB = 120 * 1024;

/** Peak resident memory of a process so far (kB), from the kernel. */
function peakRssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'))!;
  return Number(line.split(/\s+/)[1]);
}

function currentRssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]);
}

/** A large body produced on demand, never held in memory. */
function generatedBody(size: number): Readable {
  let left = size;
  const chunk = Buffer.alloc(64 * 1024, 'z');
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

describe('bodies stream through with bounded memory', () => {
  let app: Upstream;
  let gw: GatewayProc;
  let baselineKb: number;

  before(async () => {
    app = await startUpstream('app');
    gw = await startGateway(oneServiceGateway([app.url]));
    baselineKb = currentRssKb(gw.proc.child.pid!);
  });
  after(stopAll);

  it('uploads 256 MB', async () => {
    const res = await request(`${gw.url}/upload`, { method: 'POST', body: generatedBody(SIZE), headers: { 'content-length': String(SIZE) } });
    assert.equal(res.statusCode, 200);
    assert.equal(((await res.body.json()) as { bytes: number }).bytes, SIZE);
  });

  it('uploads 256 MB chunked (no content-length)', async () => {
    const res = await request(`${gw.url}/upload`, { method: 'POST', body: generatedBody(SIZE) });
    assert.equal(res.statusCode, 200);
    assert.equal(((await res.body.json()) as { bytes: number }).bytes, SIZE);
  });

  it('downloads 256 MB, read slowly by the client, with backpressure', async () => {
    const res = await request(`${gw.url}/bytes?n=${SIZE}`);
    assert.equal(res.statusCode, 200);
    let received = 0;
    let chunks = 0;
    for await (const chunk of res.body) {
      received += (chunk as Buffer).length;
      // A slow reader for the first part: the gateway must pause the upstream, not buffer.
      if (++chunks < 200) await new Promise((r) => setImmediate(r));
    }
    assert.equal(received, SIZE);
  });

  it('never held a body in memory', () => {
    const grewKb = peakRssKb(gw.proc.child.pid!) - baselineKb;
    assert.ok(grewKb < MAX_GROWTH_KB, `gateway peak RSS grew by ${Math.round(grewKb / 1024)} MB while moving 3 × ${SIZE >> 20} MB`);
  });
});

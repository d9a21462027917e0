// The harness's readers of load-generator output and CPU profiles, and its statistics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selfTimeByOrigin, selfTimes } from '../../bench/lib/cpu-profile.js';
import { parseH2load, parseWrk } from '../../bench/lib/load.js';
import { ROOT } from '../../bench/lib/process.js';
import { formatSummary, markdownTable } from '../../bench/lib/report.js';
import { median, percentileOfSorted, summarize } from '../../bench/lib/stats.js';

const WRK_CLEAN = `Running 1s test @ http://127.0.0.1:18999/x
  1 threads and 5 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    95.54us  305.98us   5.20ms   97.66%
    Req/Sec    70.95k     9.44k   87.71k    60.00%
  Latency Distribution
     50%   60.00us
     75%   70.00us
     90%   83.00us
     99%    1.72ms
  70332 requests in 1.00s, 10.60MB read
Requests/sec:  70275.57
Transfer/sec:     10.59MB
`;

const WRK_FAILING = `Running 5s test @ http://127.0.0.1:8080/api/bench
  1 threads and 50 connections
  Latency Distribution
     50%    2.10ms
     75%    3.00ms
     90%    4.00ms
     99%    1.05s
  9000 requests in 5.00s, 10.60MB read
  Socket errors: connect 0, read 3, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:   1800.00
Transfer/sec:     10.59MB
`;

test('wrk: requests per second, latency percentiles in ms, failures counted', () => {
  assert.deepEqual(parseWrk(WRK_CLEAN), { requestsPerSecond: 70275.57, p50Ms: 0.06, p99Ms: 1.72, errors: 0, non2xx: 0 });
  assert.deepEqual(parseWrk(WRK_FAILING), { requestsPerSecond: 1800, p50Ms: 2.1, p99Ms: 1050, errors: 16, non2xx: 12 });
  assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused'), /unexpected wrk output/);
});

test('h2load: percentiles from the per-request log after the warm-up, rate from the sends, failures from the summary', () => {
  const summary = 'requests: 10 total, 12 started, 10 done, 9 succeeded, 1 failed, 0 errored, 0 timeout\n';
  const start = 1795980447897414;
  // 1 s of warm-up sends that took 50 ms each, then 100 sends 10 ms apart taking 0.01 … 1 ms.
  const warmup = Array.from({ length: 10 }, (_, i) => `${start + i * 100_000}\t200\t50000`);
  const measured = Array.from({ length: 100 }, (_, i) => `${start + 1_000_000 + i * 10_000}\t${i === 99 ? 503 : 200}\t${(i + 1) * 10}`);
  const result = parseH2load(summary, [...measured.reverse(), ...warmup].join('\n') + '\n', 1);
  assert.equal(result.p50Ms, 0.5);
  assert.equal(result.p99Ms, 0.99);
  assert.equal(result.requests, 100);
  assert.equal(Math.round(result.achievedRps), 100);
  assert.equal(result.errors, 1);
  assert.throws(() => parseH2load('connect error', '', 1), /unexpected h2load output/);
  assert.throws(() => parseH2load(summary, warmup.join('\n'), 1), /0 request\(s\) after the warm-up/);
});

test('statistics: median, nearest-rank percentile, spread of runs', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(percentileOfSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99), 10);
  assert.equal(percentileOfSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), 5);
  const runs = summarize([900, 1000, 1100]);
  assert.deepEqual(runs, { median: 1000, min: 900, max: 1100, spread: 0.2, runs: 3 });
  assert.equal(formatSummary(runs), '1,000 (±10.0 %)');
});

test('Markdown table', () => {
  assert.equal(markdownTable([['a', 'b'], ['1', '2']]), '| a | b |\n| --- | --- |\n| 1 | 2 |');
  assert.equal(markdownTable([['regex'], ['a|b']]), '| regex |\n| --- |\n| a\\|b |', 'a pipe in a cell does not split it');
});

test('CPU profile: self time per function and per origin, within the load window', () => {
  const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(idle)', '') },
      { id: 2, callFrame: frame('handle', `file://${ROOT}/dist/core/proxy/proxy.js`, 41) },
      { id: 3, callFrame: frame('writeH1', `file://${ROOT}/node_modules/undici/lib/dispatcher/client-h1.js`, 1143) },
      { id: 4, callFrame: frame('wrapSafe', 'node:internal/modules/cjs/loader', 1421) },
    ],
    samples: [4, 2, 3, 2, 1],
    timeDeltas: [500, 100, 50, 100, 10],
  };
  const all = selfTimes(profile);
  assert.deepEqual(all[0], { name: 'wrapSafe', location: 'node:internal/modules/cjs/loader:1422', origin: 'node', micros: 500 });
  const load = selfTimes(profile, 200);
  assert.deepEqual(
    load.map((t) => [t.name, t.location, t.micros]),
    [['handle', 'dist/core/proxy/proxy.js:42', 200], ['writeH1', 'node_modules/undici/lib/dispatcher/client-h1.js:1144', 50], ['(idle)', '', 10]],
  );
  assert.deepEqual(selfTimeByOrigin(load), [{ origin: 'sekisho', micros: 200 }, { origin: 'undici', micros: 50 }, { origin: '(idle)', micros: 10 }]);
});

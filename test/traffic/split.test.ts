import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { eventually, send } from '../helpers/http.js';
import { getLoad, metricValue, runLoad, type LoadResult } from '../helpers/load.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';

function splitConfig(v1: Upstream, v2: Upstream, rules: string, extra = ''): string {
  return `
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes: [{ name: billing, match: { pathPrefix: / }, service: billing }]
services:
  billing:
    endpoints: [{ url: "${v1.url}", version: v1 }, { url: "${v2.url}", version: v2 }]
    traffic:
${rules}
${extra}
`;
}

function shareOf(load: LoadResult, name: string): number {
  return (100 * load.replies.filter((r) => r.headers['x-upstream'] === name).length) / load.replies.length;
}

describe('traffic split between versions', () => {
  let v1: Upstream;
  let v2: Upstream;
  let gw: GatewayProc;

  before(async () => {
    [v1, v2] = await Promise.all([startUpstream('v1'), startUpstream('v2')]);
    gw = await startGateway(splitConfig(v1, v2, `
      - match: { headers: { x-canary: "1" } }
        to: { v2: 100 }
      - match: { paths: [/beta] }
        to: { v2: 100 }
      - to: { v1: 95, v2: 5 }`));
  });
  after(stopAll);

  it('sends 95/5 within ±1.5 points over 10,000 requests, and counts versions in metrics', async () => {
    const load = await getLoad(`${gw.url}/echo`, 10_000, 32);
    assert.equal(load.errors.length, 0);
    assert.ok(load.replies.every((r) => r.status === 200));
    const v2Share = shareOf(load, 'v2');
    assert.ok(Math.abs(v2Share - 5) <= 1.5, `v2 got ${v2Share}%`);
    const metrics = (await send(`${gw.adminUrl}/metrics`)).text;
    assert.equal(
      metricValue(metrics, 'sekisho_requests_total', { service: 'billing', version: 'v2', code: '200' }),
      load.replies.filter((r) => r.headers['x-upstream'] === 'v2').length,
    );
  });

  it('a header-matched canary goes to v2 only, and so do matched paths', async () => {
    const canary = await getLoad(`${gw.url}/echo`, 100, 4, { 'x-canary': '1' });
    assert.equal(shareOf(canary, 'v2'), 100);
    const beta = await getLoad(`${gw.url}/beta/x`, 50, 4);
    assert.equal(shareOf(beta, 'v2'), 100);
    const line = await eventually(async () => gw.proc.logs().findLast((l) => l.msg === 'request' && l.path === '/beta/x'));
    assert.equal(line.version, 'v2', 'the access log names the chosen version');
  });
});

describe('sticky versions', () => {
  after(stopAll);

  it('keeps each user on one version while users spread over both', async () => {
    const [v1, v2] = await Promise.all([startUpstream('v1'), startUpstream('v2')]);
    const gw = await startGateway(splitConfig(v1, v2, '      - to: { v1: 50, v2: 50 }', '    sticky: { header: x-user }'));
    const versionsByUser = new Map<string, Set<string>>();
    for (let user = 0; user < 40; user++) {
      const seen = new Set<string>();
      for (let i = 0; i < 5; i++) seen.add((await send(`${gw.url}/echo`, { headers: { 'x-user': `user-${user}` } })).headers['x-upstream'] as string);
      versionsByUser.set(`user-${user}`, seen);
    }
    for (const [user, seen] of versionsByUser) assert.equal(seen.size, 1, `${user} saw ${[...seen]}`);
    const onV2 = [...versionsByUser.values()].filter((s) => s.has('v2')).length;
    assert.ok(onV2 > 5 && onV2 < 35, `${onV2} of 40 users on v2`);
  });
});

describe('a live split change', () => {
  after(stopAll);

  it('applies within 1 s of the config change, under traffic, without a failed request', async () => {
    const [v1, v2] = await Promise.all([startUpstream('v1'), startUpstream('v2')]);
    const gw = await startGateway(splitConfig(v1, v2, '      - to: { v1: 100, v2: 0 }'));
    let changedAt = 0;
    const stamped: { at: number; version: string; status: number }[] = [];
    // Traffic runs until 1.6 s after the change, however fast the gateway answers.
    const traffic = runLoad(
      100_000,
      4,
      async (_i, dispatcher) => {
        const r = await send(`${gw.url}/echo`, { dispatcher });
        stamped.push({ at: Date.now(), version: r.headers['x-upstream'] as string, status: r.status });
        return r;
      },
      30_000,
      () => changedAt > 0 && Date.now() > changedAt + 1600,
    );
    // Change the split once traffic flows.
    while (stamped.length < 300) await new Promise((r) => setImmediate(r));
    const file = readFileSync(gw.configFile, 'utf8');
    changedAt = Date.now();
    writeFileSync(gw.configFile, file.replace('{ v1: 100, v2: 0 }', '{ v1: 50, v2: 50 }'));
    const reloaded = await gw.proc.waitForLine((l) => l.includes('"config reloaded"'), 5000);
    const reloadedAfter = Date.parse(JSON.parse(reloaded).time as string) - changedAt;
    const load = await traffic;

    assert.equal(load.errors.length, 0);
    assert.deepEqual(new Set(stamped.map((s) => s.status)), new Set([200]), 'no failed request');
    assert.ok(reloadedAfter < 1000, `applied ${reloadedAfter} ms after the change`);
    const before = stamped.filter((s) => s.at < changedAt);
    assert.ok(before.every((s) => s.version === 'v1'));
    const settled = stamped.filter((s) => s.at > changedAt + 1000);
    assert.ok(settled.length > 200, `only ${settled.length} requests after the change settled`);
    const v2Share = (100 * settled.filter((s) => s.version === 'v2').length) / settled.length;
    assert.ok(v2Share > 35 && v2Share < 65, `v2 got ${v2Share}% after the change`);
  });
});

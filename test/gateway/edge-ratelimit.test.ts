import { after, before, describe, it } from 'node:test';
import { writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { client, eventually, send } from '../helpers/http.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';
import { RedisServer } from '../helpers/redis.js';

function limitedGateway(upstream: string, rateLimit: string, extra = ''): string {
  return `
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
${extra}
  rateLimit: ${rateLimit}
  routes: [{ name: app, match: { pathPrefix: / }, service: app }]
services:
  app: { endpoints: [${upstream}] }
`;
}

describe('rate limiting through real gateway processes (memory store)', () => {
  let app: Upstream;
  let direct: GatewayProc;
  let behindProxy: GatewayProc;

  before(async () => {
    app = await startUpstream('app');
    [direct, behindProxy] = await Promise.all([
      startGateway(limitedGateway(app.url, '{ limit: 3/min }')),
      startGateway(limitedGateway(app.url, '{ limit: 3/min }', '  trustedProxies: [127.0.0.1]')),
    ]);
  });
  after(stopAll);

  it('answers 429 with Retry-After and RateLimit headers; allowed answers carry RateLimit', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await send(`${direct.url}/echo`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['ratelimit-policy'], '"gateway";q=3;w=60');
      assert.equal(r.headers['ratelimit'], `"gateway";r=${2 - i};t=${20 * (i + 1)}`);
    }
    const refused = await send(`${direct.url}/echo`);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['content-type'], 'application/problem+json');
    assert.equal(refused.headers['x-sekisho-reason'], 'rate_limited');
    assert.equal(refused.json().code, 'rate_limited');
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 20, `Retry-After ${refused.headers['retry-after']}`);
    assert.equal(refused.headers['ratelimit-policy'], '"gateway";q=3;w=60');
    assert.match(String(refused.headers['ratelimit']), /^"gateway";r=0;t=(59|60)$/);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const r = await send(`${direct.url}/echo`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(r.status, 429, 'a spoofed X-Forwarded-For does not buy a fresh bucket');
  });

  it('keeps every client\'s bucket across a config reload', async () => {
    assert.equal((await send(`${direct.url}/echo`)).status, 429);
    writeFileSync(direct.configFile, limitedGateway(app.url, '{ limit: 3/min }', '  name: reloaded-gateway'));
    await direct.proc.waitForLine((l) => l.includes('"config reloaded"'));
    assert.equal((await send(`${direct.url}/echo`)).status, 429, 'a reload is no way to a fresh allowance');
  });

  it('counts the client named by a trusted proxy', async () => {
    const from = (ip: string) => send(`${behindProxy.url}/echo`, { headers: { 'x-forwarded-for': ip } });
    for (let i = 0; i < 3; i++) assert.equal((await from('203.0.113.7')).status, 200);
    assert.equal((await from('203.0.113.7')).status, 429);
    assert.equal((await from('203.0.113.8')).status, 200, 'another client behind the proxy has its own bucket');
  });
});

describe('rate limiting shared through a real redis-server', () => {
  let redis: RedisServer;
  let app: Upstream;

  before(async () => {
    redis = await RedisServer.start();
    app = await startUpstream('app');
  });
  after(async () => {
    await stopAll();
    await redis.kill();
  });

  it('three gateway processes on one Redis hold one limit together', async () => {
    const rate = 50;
    const config = limitedGateway(app.url, `{ limit: ${rate}/s, store: "${redis.url}", failOpen: false }`);
    const gateways = await Promise.all([startGateway(config), startGateway(config), startGateway(config)]);
    for (const gw of gateways) {
      await eventually(async () => ((await send(`${gw.url}/warm`, { headers: { 'x-api': 'warm' } })).headers['ratelimit'] ? true : undefined), 5_000, 'redis connected');
    }
    // Let the bucket fill again after the warm-up requests.
    await new Promise((r) => setTimeout(r, 1100));

    const agent = client();
    const durationMs = 2000;
    let allowed = 0;
    let refused = 0;
    let sent = 0;
    const started = Date.now();
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; sent < 5000 && Date.now() - started < durationMs; i++) {
        sent++;
        const gw = gateways[(w + i) % gateways.length]!;
        const r = await send(`${gw.url}/echo`, { dispatcher: agent });
        if (r.status === 200) allowed++;
        else if (r.status === 429) refused++;
        else assert.fail(`unexpected status ${r.status}: ${r.text}`);
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));
    const elapsedS = (Date.now() - started) / 1000;
    await agent.close();

    const expected = rate + rate * elapsedS; // a full bucket, then the steady rate
    assert.ok(refused > allowed, `the load must exceed the limit to test it (${allowed} allowed, ${refused} refused)`);
    assert.ok(allowed <= expected * 1.05 + 1 && allowed >= expected * 0.9,
      `${allowed} allowed in ${elapsedS.toFixed(2)} s across 3 gateways; one shared limit allows ~${expected.toFixed(0)}`);
    const exitCodes = await Promise.all(gateways.map((gw) => gw.proc.stop()));
    assert.deepEqual(exitCodes, [0, 0, 0], 'gateways with a Redis connection stop cleanly');
  });

  it('fails open or closed when Redis dies, never hangs, and recovers when it is back', async () => {
    const open = await startGateway(limitedGateway(app.url, `{ limit: 2/min, store: "${redis.url}", failOpen: true, by: "header:x-client" }`));
    const closed = await startGateway(limitedGateway(app.url, `{ limit: 2/min, store: "${redis.url}", failOpen: false, by: "header:x-client" }`));
    const as = (gw: GatewayProc, who: string) => send(`${gw.url}/echo`, { headers: { 'x-client': who } });
    for (const gw of [open, closed]) {
      await eventually(async () => ((await as(gw, 'probe')).headers['ratelimit'] ? true : undefined), 5_000, 'redis connected');
    }
    // Both gateways share the bucket: two requests anywhere use it up.
    assert.equal((await as(open, 'erin')).status, 200);
    assert.equal((await as(closed, 'erin')).status, 200);
    assert.equal((await as(open, 'erin')).status, 429);
    assert.equal((await as(closed, 'erin')).status, 429);

    await redis.kill();
    const timed = async (gw: GatewayProc) => {
      const started = Date.now();
      const r = await as(gw, 'erin');
      return { r, ms: Date.now() - started };
    };
    for (let i = 0; i < 5; i++) {
      const viaOpen = await timed(open);
      assert.equal(viaOpen.r.status, 200, 'fail-open lets requests through');
      assert.equal(viaOpen.r.headers['ratelimit'], undefined);
      assert.ok(viaOpen.ms < 1_000, `fail-open answered in ${viaOpen.ms} ms`);
      const viaClosed = await timed(closed);
      assert.equal(viaClosed.r.status, 429, 'fail-closed refuses');
      assert.equal(viaClosed.r.headers['retry-after'], '1');
      assert.match(String(viaClosed.r.json().detail), /store is unreachable/);
      assert.ok(viaClosed.ms < 1_000, `fail-closed answered in ${viaClosed.ms} ms`);
    }
    for (const gw of [open, closed]) assert.equal((await send(`${gw.adminUrl}/live`)).status, 200);
    const outage = await eventually(async () => closed.proc.logs().find((l) => String(l['msg']).startsWith('rate-limit store unreachable')), 5_000, 'outage logged');
    assert.equal(outage['level'], 'warn');

    await redis.start(); // empty: every bucket is full again
    await eventually(async () => {
      const r = await as(closed, 'frank');
      return r.status === 200 && r.headers['ratelimit'] !== undefined ? true : undefined;
    }, 10_000, 'limits enforced again once Redis is back');
    await eventually(async () => closed.proc.logs().find((l) => l['msg'] === 'rate-limit store reachable again'), 5_000, 'recovery logged');
    assert.equal((await as(open, 'frank')).status, 200);
    assert.equal((await as(open, 'frank')).status, 429);

    await redis.kill();
    assert.equal(await open.proc.stop(), 0, 'a gateway whose Redis is gone still stops cleanly');
  });
});

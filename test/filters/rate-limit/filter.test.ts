import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigString } from '../../../src/config/load.js';
import type { GatewayConfig } from '../../../src/config/types.js';
import type { RequestContext } from '../../../src/core/context.js';
import { Problem } from '../../../src/core/problem.js';
import { ProxyMetrics } from '../../../src/core/proxy-metrics.js';
import { createRateLimitFilter, MemoryStore, type RateLimitStore } from '../../../src/filters/rate-limit/index.js';

function gatewayConfig(yaml: string): GatewayConfig {
  const loaded = loadConfigString(yaml);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
  return loaded.config.gateway!;
}

const CONFIG = gatewayConfig(`
gateway:
  rateLimit: { limit: 10/s }
  routes:
    - { name: api, match: { pathPrefix: /api }, service: app }
    - { name: upload, match: { pathPrefix: /upload }, service: app, rateLimit: { limit: 2/s } }
    - { name: by-user, match: { pathPrefix: /user }, service: app, rateLimit: { limit: 1/min, by: "jwt:sub" } }
    - { name: by-key, match: { pathPrefix: /key }, service: app, rateLimit: { limit: 1/min, by: "header:X-Api-Key" } }
services:
  app: { endpoints: [http://127.0.0.1:1] }
`);

function context(route: number, clientIp = '192.0.2.1', extra: Partial<RequestContext> = {}): RequestContext {
  const ctx = {
    route: { config: CONFIG.routes[route] },
    clientIp,
    headers: {} as Record<string, string>,
    claims: undefined,
    responseHeaders: [],
    ...extra,
  };
  return { ...ctx, header: (name: string) => ctx.headers[name] } as unknown as RequestContext;
}

function header(list: readonly string[], name: string): string | undefined {
  const i = list.indexOf(name);
  return i === -1 ? undefined : list[i + 1];
}

describe('rate-limit filter on a fake clock', () => {
  function setup(): { filter: NonNullable<ReturnType<typeof createRateLimitFilter>>; clock: { now: number }; metrics: ProxyMetrics } {
    const clock = { now: 1_700_000_000_000 };
    const store = new MemoryStore(() => clock.now);
    const metrics = new ProxyMetrics('gateway');
    const filter = createRateLimitFilter(CONFIG, (): RateLimitStore => store, metrics)!;
    return { filter, clock, metrics };
  }

  it('allows exactly 10 requests at 10/s, refuses the 11th, and one more per 100 ms', () => {
    const { filter, clock, metrics } = setup();
    for (let i = 0; i < 10; i++) {
      const ctx = context(0);
      assert.equal(filter.onRequest(ctx), undefined, `request ${i + 1}`);
      assert.equal(header(ctx.responseHeaders, 'ratelimit'), `"gateway";r=${9 - i};t=1`);
      assert.equal(header(ctx.responseHeaders, 'ratelimit-policy'), '"gateway";q=10;w=1');
    }
    const refused = filter.onRequest(context(0));
    assert.ok(refused instanceof Problem);
    assert.equal(refused.status, 429);
    assert.equal(refused.code, 'rate_limited');
    assert.equal(header(refused.headers, 'retry-after'), '1');
    assert.equal(header(refused.headers, 'ratelimit-policy'), '"gateway";q=10;w=1');
    assert.equal(header(refused.headers, 'ratelimit'), '"gateway";r=0;t=1');

    clock.now += 99;
    assert.ok(filter.onRequest(context(0)) instanceof Problem, 'at 99 ms the next token is not there yet');
    clock.now += 1;
    assert.equal(filter.onRequest(context(0)), undefined, 'at 100 ms one request is allowed');
    assert.ok(filter.onRequest(context(0)) instanceof Problem);
    assert.equal(metrics.registry.render().includes('sekisho_ratelimit_rejected_total{role="gateway",route="api"} 3'), true);
  });

  it('gives another client its own bucket', () => {
    const { filter } = setup();
    for (let i = 0; i < 10; i++) filter.onRequest(context(0, '192.0.2.1'));
    assert.ok(filter.onRequest(context(0, '192.0.2.1')) instanceof Problem);
    assert.equal(filter.onRequest(context(0, '192.0.2.2')), undefined);
  });

  it('applies a route limit and the gateway-wide one together', () => {
    const { filter, clock } = setup();
    const first = context(1);
    assert.equal(filter.onRequest(first), undefined);
    assert.equal(header(first.responseHeaders, 'ratelimit-policy'), '"upload";q=2;w=1, "gateway";q=10;w=1');
    assert.equal(header(first.responseHeaders, 'ratelimit'), '"upload";r=1;t=1, "gateway";r=9;t=1');
    assert.equal(filter.onRequest(context(1)), undefined);
    const refused = filter.onRequest(context(1));
    assert.ok(refused instanceof Problem);
    assert.equal(header(refused.headers, 'ratelimit'), '"upload";r=0;t=1');
    assert.equal(header(refused.headers, 'retry-after'), '1');
    // The route's refusal did not spend gateway-wide tokens: 8 are left for other routes.
    for (let i = 0; i < 8; i++) assert.equal(filter.onRequest(context(0)), undefined, `api request ${i + 1}`);
    assert.ok(filter.onRequest(context(0)) instanceof Problem);
    clock.now += 1000;
    assert.equal(filter.onRequest(context(1)), undefined);
  });

  it('rounds Retry-After up to whole seconds', () => {
    const { filter } = setup();
    const user = context(2, '192.0.2.1', { claims: { sub: 'alice' } });
    assert.equal(filter.onRequest(user), undefined);
    const refused = filter.onRequest(context(2, '192.0.2.1', { claims: { sub: 'alice' } }));
    assert.ok(refused instanceof Problem);
    assert.equal(header(refused.headers, 'retry-after'), '60');
  });

  it('keys on a verified claim, falling back to the client IP without one', () => {
    const { filter } = setup();
    assert.equal(filter.onRequest(context(2, '192.0.2.1', { claims: { sub: 'alice' } })), undefined);
    assert.equal(filter.onRequest(context(2, '192.0.2.1', { claims: { sub: 'bob' } })), undefined, 'same IP, other user');
    assert.ok(filter.onRequest(context(2, '192.0.2.9', { claims: { sub: 'alice' } })) instanceof Problem, 'same user, other IP');
    assert.equal(filter.onRequest(context(2, '192.0.2.1')), undefined, 'no claims: counted by IP');
    assert.ok(filter.onRequest(context(2, '192.0.2.1')) instanceof Problem);
  });

  it('keys on a header, falling back to the client IP without one', () => {
    const { filter } = setup();
    const withKey = (key: string, ip: string): RequestContext => context(3, ip, { headers: { 'x-api-key': key } } as Partial<RequestContext>);
    assert.equal(filter.onRequest(withKey('k1', '192.0.2.1')), undefined);
    assert.ok(filter.onRequest(withKey('k1', '192.0.2.2')) instanceof Problem);
    assert.equal(filter.onRequest(withKey('k2', '192.0.2.1')), undefined);
  });

  it('fails open or closed when the store cannot answer', async () => {
    const down: RateLimitStore = { take: () => Promise.reject(new Error('connection is closed')), close: async () => {} };
    const open = createRateLimitFilter(CONFIG, () => down, new ProxyMetrics('gateway'))!;
    const ctx = context(0);
    assert.equal(await open.onRequest(ctx), undefined);
    assert.equal(header(ctx.responseHeaders, 'ratelimit'), undefined, 'no RateLimit item without a decision');

    const closedConfig = { ...CONFIG, rateLimit: { ...CONFIG.rateLimit!, failOpen: false } };
    const closed = createRateLimitFilter(closedConfig, () => down, new ProxyMetrics('gateway'))!;
    const refused = await closed.onRequest(context(0));
    assert.ok(refused instanceof Problem);
    assert.equal(refused.status, 429);
    assert.equal(header(refused.headers, 'retry-after'), '1');
  });
});

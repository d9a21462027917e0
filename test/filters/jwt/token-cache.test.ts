import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JwtConfig } from '../../../src/config/types.js';
import type { RequestContext } from '../../../src/core/context.js';
import { Problem } from '../../../src/core/problem.js';
import { ProxyMetrics } from '../../../src/core/proxy-metrics.js';
import { createJwtFilter } from '../../../src/filters/jwt/index.js';
import { VerifiedTokenCache } from '../../../src/filters/jwt/token-cache.js';
import { claimsFor, sign } from '../../helpers/jwt.js';

describe('verified-token cache', () => {
  it('keeps a token until its exp plus the skew', () => {
    const cache = new VerifiedTokenCache(10, 5_000);
    cache.set('t', { exp: 100, sub: 'a' });
    assert.equal(cache.get('t', 100_000 + 5_000)?.sub, 'a');
    assert.equal(cache.get('t', 100_000 + 5_001), undefined);
    assert.equal(cache.size, 0, 'an expired entry is dropped when seen');
  });

  it('is bounded, evicting the least recently used token', () => {
    const cache = new VerifiedTokenCache(2, 0);
    cache.set('a', { exp: 10 });
    cache.set('b', { exp: 10 });
    assert.ok(cache.get('a', 0)); // a is now the most recent
    cache.set('c', { exp: 10 });
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b', 0), undefined);
    assert.ok(cache.get('a', 0));
    assert.ok(cache.get('c', 0));
  });
});

describe('JWT filter with a hot token', () => {
  const secret = 'a-shared-secret-of-at-least-32-bytes!';
  const config: JwtConfig = {
    audience: [], keys: [], secret, algorithms: ['HS256'], clockSkewMs: 0, forwardClaims: { sub: 'x-user-id' },
  };

  function context(token: string): RequestContext {
    return {
      route: { config: { auth: 'required' } },
      header: (name: string) => (name === 'authorization' ? `Bearer ${token}` : undefined),
      upstreamHeaders: [],
      claims: undefined,
    } as unknown as RequestContext;
  }

  it('verifies a new token once, then answers from the cache synchronously', async () => {
    const filter = createJwtFilter(config, undefined, new ProxyMetrics('gateway'));
    const token = await sign(claimsFor({ sub: 'alice' }), { alg: 'HS256', secret: new TextEncoder().encode(secret) });
    const first = context(token);
    const pending = filter.onRequest(first);
    assert.ok(pending instanceof Promise, 'the first sight of a token waits for a signature check');
    assert.equal(await pending, undefined);
    const second = context(token);
    assert.equal(filter.onRequest(second), undefined, 'a known token is admitted without a promise');
    assert.equal(second.claims?.sub, 'alice');
    assert.deepEqual(second.upstreamHeaders, ['x-user-id', 'alice']);
  });

  it('does not cache refusals', async () => {
    const filter = createJwtFilter(config, undefined, new ProxyMetrics('gateway'));
    const expired = await sign({ sub: 'x', exp: Math.floor(Date.now() / 1000) - 10 }, { alg: 'HS256', secret: new TextEncoder().encode(secret) });
    for (let i = 0; i < 2; i++) {
      const verdict = filter.onRequest(context(expired));
      assert.ok(verdict instanceof Promise);
      const problem = await verdict;
      assert.ok(problem instanceof Problem);
      assert.equal(problem.status, 401);
    }
  });
});

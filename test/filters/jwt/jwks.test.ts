import { afterEach, before, after, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { JwksCache, DEFAULT_JWKS_TIMING } from '../../../src/filters/jwt/jwks.js';
import { JwksServer, signingKey, type SigningKey } from '../../helpers/jwt.js';

/** The clock the cache reads; moved by hand alongside the mocked timers. */
let clock = 1_000_000;
const now = (): number => clock;

function advance(ms: number): void {
  clock += ms;
  mock.timers.tick(ms);
}

/** Resolves when the server has been fetched `count` times (the fetch itself is real HTTP). */
async function fetched(server: JwksServer, count: number): Promise<void> {
  for (let i = 0; i < 200 && server.fetches < count; i++) await new Promise((r) => setImmediate(r));
  assert.equal(server.fetches, count);
}

describe('JWKS cache (real HTTP, fake timers)', () => {
  let server: JwksServer;
  let k1: SigningKey;
  let k2: SigningKey;
  let cache: JwksCache | undefined;

  before(async () => {
    [k1, k2] = await Promise.all([signingKey('RS256', 'k1'), signingKey('ES256', 'k2')]);
    server = await new JwksServer().start();
  });
  after(() => server.stop());
  afterEach(() => {
    cache?.close();
    mock.timers.reset();
  });

  function startCache(): JwksCache {
    mock.timers.enable({ apis: ['setTimeout'] });
    server.fetches = 0;
    server.failing = false;
    server.keys = [k1];
    server.maxAgeS = 60;
    cache = new JwksCache(server.url, DEFAULT_JWKS_TIMING, now);
    return cache;
  }

  it('loads at start and finds keys by kid and algorithm', async () => {
    const jwks = startCache();
    jwks.start();
    await jwks.refetch();
    assert.equal(jwks.loaded, true);
    assert.equal(jwks.lookup('RS256', 'k1').length, 1);
    assert.equal(jwks.lookup('ES256', 'k1').length, 0, 'an RSA key never verifies ES256');
    assert.equal(jwks.lookup('RS256', undefined).length, 1);
    assert.equal(jwks.lookup('RS256', 'k9').length, 0);
  });

  it('refreshes in the background before max-age runs out', async () => {
    const jwks = startCache();
    jwks.start();
    await fetched(server, 1);
    await jwks.refetch(); // settles the first fetch
    server.keys = [k1, k2];
    advance(60_000 * 0.8 - 1);
    assert.equal(server.fetches, 1);
    advance(1);
    await fetched(server, 2);
    await jwks.refetch();
    assert.equal(jwks.lookup('ES256', 'k2').length, 1);
  });

  it('refetches for an unknown kid at most once per 5 s', async () => {
    const jwks = startCache();
    jwks.start();
    await fetched(server, 1);
    await jwks.refetch();
    assert.equal(jwks.refetch(), undefined, 'within 5 s of the last fetch');
    advance(4_999);
    assert.equal(jwks.refetch(), undefined);
    advance(1);
    const again = jwks.refetch();
    assert.ok(again !== undefined);
    assert.equal(jwks.refetch(), again, 'a fetch under way is shared');
    await again;
    assert.equal(server.fetches, 2);
  });

  it('keeps the last good set when the endpoint fails, and retries with backoff', async () => {
    const jwks = startCache();
    jwks.start();
    await fetched(server, 1);
    await jwks.refetch();
    server.failing = true;
    advance(5_000);
    await jwks.refetch();
    assert.equal(server.fetches, 2);
    assert.equal(jwks.lastFetchFailed, true);
    assert.equal(jwks.lookup('RS256', 'k1').length, 1, 'last good set still served');
    advance(5_000); // first retry after a failure: 5 s
    await fetched(server, 3);
    await jwks.refetch(); // the failed retry settles (no new fetch: within 5 s)
    server.failing = false;
    advance(10_000); // then 10 s
    await fetched(server, 4);
    await jwks.refetch();
    assert.equal(jwks.lastFetchFailed, false);
  });

  it('reports never-loaded when the first fetch fails', async () => {
    const jwks = startCache();
    server.failing = true;
    jwks.start();
    await fetched(server, 1);
    await jwks.refetch();
    assert.equal(jwks.loaded, false);
    assert.equal(jwks.lastFetchFailed, true);
  });
});

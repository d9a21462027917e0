import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisStore } from '../../../src/filters/rate-limit/stores/redis.js';
import { eventually } from '../../helpers/http.js';
import { RedisServer } from '../../helpers/redis.js';
import { storeConformance } from './store-conformance.js';

describe('redis rate-limit store (real redis-server)', () => {
  let redis: RedisServer;
  let store: RedisStore;

  before(async () => {
    redis = await RedisServer.start();
    store = new RedisStore(redis.url);
    await eventually(async () => (store.connected ? true : undefined), 5_000, 'redis connection');
  });
  after(async () => {
    await store.close();
    await redis.kill();
  });

  storeConformance(() => store);

  it('gives each bucket a TTL: the time until it is full again', async () => {
    const policy = { name: 'ttl', intervalMs: 20_000, burst: 3 };
    await store.take('ttl-check', policy);
    const client = new Redis(redis.url);
    try {
      const ttl = await client.pttl('sekisho:rl:ttl-check');
      assert.ok(ttl > 19_000 && ttl <= 20_000, `pttl ${ttl}`);
    } finally {
      client.disconnect();
    }
  });

  it('rejects promptly, without queueing, while redis is down', async () => {
    await redis.kill();
    await eventually(async () => (store.connected ? undefined : true), 5_000, 'disconnect noticed');
    const started = Date.now();
    await assert.rejects(store.take('down', { name: 'down', intervalMs: 1000, burst: 1 }));
    assert.ok(Date.now() - started < 1_000);
  });
});

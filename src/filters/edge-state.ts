import { SILENT_LOG, type EventLog } from './event-log.js';
import { DEFAULT_JWKS_TIMING, JwksCache } from './jwt/jwks.js';
import { MemoryStore } from './rate-limit/stores/memory.js';
import { RedisStore } from './rate-limit/stores/redis.js';
import type { RateLimitStore } from './rate-limit/stores/store.js';

/**
 * What the edge filters keep across config generations: rate-limit buckets (so a reload does
 * not hand every client a fresh allowance), Redis connections, and JWKS caches (so a reload
 * neither refetches keys nor forgets the last good set).
 *
 * Each generation's build calls `beginGeneration`, takes what it needs, then `endGeneration`,
 * which closes what the new generation no longer uses (a Redis URL or JWKS URI that left the
 * config).
 */
export class EdgeState {
  private readonly memory = new MemoryStore();
  private readonly redisStores = new Map<string, RedisStore>();
  private readonly jwksCaches = new Map<string, JwksCache>();
  private readonly used = new Set<object>();

  constructor(private readonly log: EventLog = SILENT_LOG) {}

  beginGeneration(): void {
    this.used.clear();
  }

  /** The store for a `store:` value: the shared memory store, or one Redis client per URL. */
  store(spec: string): RateLimitStore {
    if (spec === 'memory') return this.memory;
    let store = this.redisStores.get(spec);
    if (store === undefined) this.redisStores.set(spec, (store = new RedisStore(spec, this.log)));
    this.used.add(store);
    return store;
  }

  /** The cache of `uri`, started on first use. */
  jwks(uri: string): JwksCache {
    let cache = this.jwksCaches.get(uri);
    if (cache === undefined) {
      this.jwksCaches.set(uri, (cache = new JwksCache(uri, DEFAULT_JWKS_TIMING, Date.now, this.log)));
      cache.start();
    }
    this.used.add(cache);
    return cache;
  }

  endGeneration(): void {
    for (const [url, store] of this.redisStores) {
      if (this.used.has(store)) continue;
      this.redisStores.delete(url);
      void store.close();
    }
    for (const [uri, cache] of this.jwksCaches) {
      if (this.used.has(cache)) continue;
      this.jwksCaches.delete(uri);
      cache.close();
    }
  }

  /** Closes everything: the gateway is stopping. */
  close(): void {
    this.beginGeneration();
    this.endGeneration();
    void this.memory.close();
  }
}

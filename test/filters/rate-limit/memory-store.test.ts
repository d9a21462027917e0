import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../../src/filters/rate-limit/stores/memory.js';
import { storeConformance } from './store-conformance.js';

describe('memory rate-limit store', () => {
  const store = new MemoryStore();
  storeConformance(() => store);

  it('forgets buckets that are full again', () => {
    let now = 0;
    const swept = new MemoryStore(() => now);
    const policy = { name: 'p', intervalMs: 10, burst: 1 };
    for (let i = 0; i < 20_000; i++) {
      swept.take(`client-${i}`, policy);
      now += 1;
    }
    // Each bucket is full again 10 ms after its one request; the sweep every 4096 takes drops them.
    assert.ok(swept.size <= 4096, `${swept.size} buckets kept after 20000 clients`);
  });
});

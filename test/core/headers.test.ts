import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionTokens, newRequestId, newTraceparent, traceIdOf } from '../../src/core/headers.js';

describe('request ids and trace context', () => {
  it('makes version-4 UUIDs, all different, across refills of the random pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = newRequestId();
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 2000);
  });

  it('makes sampled traceparents whose trace id it can read back', () => {
    const { traceparent, traceId } = newTraceparent();
    assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(traceIdOf(traceparent), traceId);
    assert.notEqual(newTraceparent().traceId, traceId);
  });

  it('rejects traceparents W3C calls invalid', () => {
    assert.equal(traceIdOf(undefined), undefined);
    assert.equal(traceIdOf(`00-${'0'.repeat(32)}-${'a'.repeat(16)}-01`), undefined);
    assert.equal(traceIdOf(`00-${'a'.repeat(32)}-${'0'.repeat(16)}-01`), undefined);
    assert.equal(traceIdOf(`00-${'A'.repeat(32)}-${'a'.repeat(16)}-01`), undefined);
    assert.equal(traceIdOf(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`), 'a'.repeat(32));
  });

  it('reads hop-by-hop names from Connection, ignoring close and keep-alive', () => {
    assert.equal(connectionTokens('keep-alive'), undefined);
    assert.deepEqual([...connectionTokens('close, X-Secret , keep-alive,Foo')!], ['x-secret', 'foo']);
  });
});

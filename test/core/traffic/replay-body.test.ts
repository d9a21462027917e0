import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { fitsReplayBuffer, readReplayable, REPLAY_LIMIT } from '../../../src/core/traffic/replay-body.js';

describe('replayable bodies', () => {
  it('keeps bodiless, buffered and small declared bodies; streams the rest', () => {
    const stream = Readable.from([]);
    assert.equal(fitsReplayBuffer(null, undefined), true);
    assert.equal(fitsReplayBuffer(Buffer.from('x'), undefined), true);
    assert.equal(fitsReplayBuffer(stream, String(REPLAY_LIMIT)), true);
    assert.equal(fitsReplayBuffer(stream, String(REPLAY_LIMIT + 1)), false);
    assert.equal(fitsReplayBuffer(stream, undefined), false, 'chunked: size unknown');
  });

  it('reads a stream into one buffer', async () => {
    const body = await readReplayable(Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
    assert.equal(body.toString(), 'abcd');
  });

  it('refuses a stream longer than the limit', async () => {
    const big = Readable.from([Buffer.alloc(REPLAY_LIMIT), Buffer.alloc(1)]);
    await assert.rejects(readReplayable(big));
  });
});

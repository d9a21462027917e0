import type { Readable } from 'node:stream';

/**
 * Request bodies that may be sent more than once (retries, mirrors) must be kept in memory, and
 * only small ones are: a body is kept when it is already a Buffer (a filter buffered it) or when
 * its `Content-Length` is at most `REPLAY_LIMIT`. Larger bodies and chunked ones of unknown size
 * stream straight through, read once — such a request is never retried or mirrored once sent.
 */
export const REPLAY_LIMIT = 64 * 1024;

/** Whether `body` is small enough (by its declared length) to be read into memory. */
export function fitsReplayBuffer(body: Readable | Buffer | null, contentLength: string | undefined): boolean {
  if (body === null || Buffer.isBuffer(body)) return true;
  if (contentLength === undefined) return false;
  const length = Number(contentLength);
  return Number.isInteger(length) && length <= REPLAY_LIMIT;
}

/**
 * Reads a stream whose declared length fits the replay limit into one Buffer. Rejects when the
 * stream fails (the client went away) or turns out longer than the limit.
 */
export function readReplayable(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > REPLAY_LIMIT) stream.destroy(new Error('request body longer than its Content-Length'));
      else chunks.push(chunk);
    });
    stream.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('client closed the connection')));
  });
}

import type { Socket } from 'node:net';

/** Bodies up to this size are copied behind their head and leave in one write. */
const COALESCE_LIMIT = 64 * 1024;

/**
 * `prefix` (latin1: a head, a chunk size) + `body` + `suffix` as one write: one buffer when the
 * body is small, a corked run of writes otherwise. Returns the socket's backpressure signal.
 */
export function writeJoined(socket: Socket, prefix: string, body: Buffer, suffix: string): boolean {
  if (body.length <= COALESCE_LIMIT) {
    const prefixLength = prefix.length; // latin1: one byte per character
    const out = Buffer.allocUnsafe(prefixLength + body.length + suffix.length);
    out.write(prefix, 0, 'latin1');
    body.copy(out, prefixLength);
    if (suffix !== '') out.write(suffix, prefixLength + body.length, 'latin1');
    return socket.write(out);
  }
  socket.cork();
  socket.write(prefix, 'latin1');
  let ok = socket.write(body);
  if (suffix !== '') ok = socket.write(suffix, 'latin1');
  socket.uncork();
  return ok;
}

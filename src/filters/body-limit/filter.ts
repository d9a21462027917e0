import type { Readable } from 'node:stream';
import type { RequestContext } from '../../core/context.js';
import { RESPONDED, type Filter, type FilterResult, type FilterVerdict } from '../../core/filter.js';
import { Problem } from '../../core/problem.js';

/**
 * `gateway.maxBodySize`: a request body larger than the limit is refused with 413
 * `body_too_large` before the upstream is contacted.
 * - With `Content-Length` the size is known up front (and the parser enforces it), so the body
 *   streams upstream untouched.
 * - A chunked body's size is known only at its end, so it is read into memory up to the limit
 *   first (as nginx does with request buffering) and sent upstream as one buffer with a
 *   Content-Length; one that grows past the limit is refused and never reaches the upstream.
 * A refusal closes the connection: the rest of an oversized body is not worth reading.
 */
export class BodyLimitFilter implements Filter {
  readonly name = 'body-limit';

  constructor(readonly maxBytes: number) {}

  onRequest(ctx: RequestContext): FilterResult {
    if (!ctx.hasBody) return undefined;
    const declared = ctx.header('content-length');
    if (declared === undefined) return new ChunkedBodyReader(ctx, this.maxBytes).read();
    return Number(declared) > this.maxBytes ? tooLarge(ctx, this.maxBytes) : undefined;
  }
}

function tooLarge(ctx: RequestContext, maxBytes: number): Problem {
  ctx.responseHeaders.push('connection', 'close');
  return new Problem('body_too_large', `the request body is larger than ${maxBytes} bytes`);
}

/** Reads one chunked request body into memory, up to the limit. */
class ChunkedBodyReader {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settle!: (verdict: FilterVerdict) => void;

  constructor(
    private readonly ctx: RequestContext,
    private readonly maxBytes: number,
  ) {}

  /** The request body stream (the request head reader set it). */
  private get body(): Readable {
    return this.ctx.body as Readable;
  }

  read(): Promise<FilterVerdict> {
    const req = this.body;
    const done = new Promise<FilterVerdict>((resolve) => {
      this.settle = resolve;
    });
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onGone);
    req.on('close', this.onGone);
    return done;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.size += chunk.length;
    if (this.size <= this.maxBytes) {
      this.chunks.push(chunk);
      return;
    }
    this.stop();
    this.body.pause();
    this.chunks.length = 0;
    this.settle(tooLarge(this.ctx, this.maxBytes));
  };

  private readonly onEnd = (): void => {
    this.stop();
    this.ctx.body = Buffer.concat(this.chunks, this.size);
    this.settle(undefined);
  };

  /**
   * The client left or sent a malformed chunk (which the listener answers with 400 itself):
   * either way nothing more can be sent on this connection.
   */
  private readonly onGone = (): void => {
    this.stop();
    this.ctx.detail = 'the connection closed before the request body was complete';
    this.settle(RESPONDED);
  };

  private stop(): void {
    const req = this.body;
    req.off('data', this.onData);
    req.off('end', this.onEnd);
    req.off('error', this.onGone);
    req.off('close', this.onGone);
  }
}

import { createRequire } from 'node:module';

/**
 * llhttp, the HTTP/1.1 parser inside Node.js, used directly.
 *
 * Why not node:http: its parser is strict and fuzzed (it refuses the framing tricks request
 * smuggling is built on) and fast, but node:http wraps every exchange in IncomingMessage and
 * ServerResponse streams, header objects and events — most of a proxy's CPU. Sekisho's listener
 * and upstream client feed socket bytes to the parser themselves and keep per-request state to a
 * few fields. `_http_common` is the module node:http itself takes the parser from; this file is
 * the one place that knows about it.
 *
 * Callbacks are set as indexed properties on a parser instance and called with the parser as
 * `this`:
 *   [kOnHeadersComplete](versionMajor, versionMinor, rawHeaders, method, url, statusCode,
 *                        statusMessage, upgrade, shouldKeepAlive) → 0, or 1 to say "no body"
 *                        (the answer to HEAD)
 *   [kOnHeaders](rawHeaders, url)  headers that arrived before the head was complete (long heads)
 *   [kOnBody](chunk)               a slice of the decoded body (chunked framing removed)
 *   [kOnMessageComplete]()
 * `execute(buffer)` parses a chunk and returns the bytes consumed, or an Error whose `code` is
 * llhttp's (`HPE_INVALID_HEADER_TOKEN`, `HPE_HEADER_OVERFLOW`, …). `finish()` tells it the stream
 * ended (a response delimited by close is then complete).
 */
export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(chunk: Buffer): number | ParseError;
  finish(): undefined | ParseError;
  close(): void;
  free(): void;
  remove(): void;
  [callback: number]: unknown;
}

export interface ParseError extends Error {
  code: string;
  reason: string;
  bytesParsed: number;
}

interface ParserConstructor {
  new (): LlhttpParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
}

const common = createRequire(import.meta.url)('_http_common') as { HTTPParser: ParserConstructor; methods: string[] };

export const HTTPParser = common.HTTPParser;
/** Method names by llhttp's method index (what kOnHeadersComplete passes). */
export const METHODS: readonly string[] = common.methods;
export const kOnHeaders = HTTPParser.kOnHeaders;
export const kOnHeadersComplete = HTTPParser.kOnHeadersComplete;
export const kOnBody = HTTPParser.kOnBody;
export const kOnMessageComplete = HTTPParser.kOnMessageComplete;
/** No lenient flags: the strict parser, always. */
export const STRICT = 0;

/** Async-hooks resource the parser requires; Sekisho does not use async hooks per request. */
const RESOURCE = Object.freeze({});

/** A strict parser for one connection's requests or responses. */
export function newParser(type: 'request' | 'response', maxHeaderSize: number): LlhttpParser {
  const parser = new HTTPParser();
  parser.initialize(type === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, RESOURCE, maxHeaderSize, STRICT);
  return parser;
}

export function isParseError(result: number | ParseError | undefined): result is ParseError {
  return typeof result === 'object';
}

/** Reason phrases for the status line (Node's table, as node:http uses). */
export { STATUS_CODES } from 'node:http';

/**
 * Head lines llhttp hands over before `kOnHeadersComplete`: the parts of a long head (which it
 * keeps doing for every later head on the connection), and trailers after a body. Once a parser
 * has handed lines over early, `kOnHeadersComplete` passes `undefined` for headers and URL and
 * they are taken from here. A message's end drops whatever is left — its trailers — so they are
 * never taken for the next head.
 */
export class EarlyHeadLines {
  private headers: string[] = [];
  private url = '';

  add(headers: readonly string[], url: string): void {
    for (let i = 0; i < headers.length; i++) this.headers.push(headers[i]!);
    this.url += url;
  }

  /** The head's header lines: `given` when the parser passed them, else the ones handed over early. */
  takeHeaders(given: string[] | undefined): string[] {
    if (given !== undefined) return given;
    const headers = this.headers;
    this.headers = [];
    return headers;
  }

  takeUrl(given: string | undefined): string {
    if (given !== undefined) return given;
    const url = this.url;
    this.url = '';
    return url;
  }

  /** The message ended: trailers (not forwarded) are dropped. */
  messageEnded(): void {
    if (this.headers.length > 0) this.headers = [];
    this.url = '';
  }
}

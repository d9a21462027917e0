import type { TLSSocket } from 'node:tls';
import type { RequestContext } from '../context.js';
import { connectionTokens, newRequestId, newTraceparent, traceIdOf } from '../headers.js';
import { normalizePath } from '../path.js';
import { Problem } from '../problem.js';

/** Options of the role that shape how a request head is read. */
export interface HeadOptions {
  /** Drop client-sent `x-sekisho-*` headers (the gateway: they are Sekisho's to set). */
  readonly stripInternalHeaders: boolean;
}

const MAX_REQUEST_ID_LENGTH = 200;

/** Header fields per request when the config sets no `limits.maxHeaderCount` (Envoy's default too). */
const DEFAULT_MAX_HEADER_COUNT = 100;

/**
 * One pass over the raw request head: target → host/path/query (path normalized), client IP,
 * and the header list to forward (hop-by-hop removed, request id, trace context and
 * X-Forwarded-* set). Returns a Problem for a request that must not go further.
 *
 * llhttp's strict parser has already refused malformed framing (CL+TE, duplicate Content-Length,
 * bad chunk sizes, obs-fold, bare LF, invalid characters; see listener.ts). What it lets through
 * but a proxy must not forward ambiguously is refused here: too many header fields (431), no Host
 * or more than one (HTTP/1.1), a transfer coding other than plain `chunked`, versions other than
 * HTTP/1.x.
 */
export function readRequestHead(ctx: RequestContext, options: HeadOptions): Problem | undefined {
  const problem = readHead(ctx, options);
  // A refused request still gets an id, for its problem document and the access log.
  if (problem !== undefined && ctx.requestId === '') ctx.requestId = newRequestId();
  return problem;
}

function readHead(ctx: RequestContext, options: HeadOptions): Problem | undefined {
  const req = ctx.req;
  const raw = req.rawHeaders;
  const out = ctx.upstreamHeaders;
  const framing = checkFraming(ctx);
  if (framing !== undefined) return framing;
  let host: string | undefined;
  let forwardedFor: string | undefined;
  let forwardedProto: string | undefined;
  let forwardedHost: string | undefined;
  let requestId: string | undefined;
  let traceparent: string | undefined;
  let connection: string | undefined;

  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    switch (lower) {
      case 'host':
        if (host !== undefined) return refuseHead(ctx, 'more than one Host header');
        host = value;
        continue;
      case 'x-forwarded-for': forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`; continue;
      case 'x-forwarded-proto': forwardedProto ??= value; continue;
      case 'x-forwarded-host': forwardedHost ??= value; continue;
      case 'x-request-id': requestId ??= value; continue;
      case 'traceparent': traceparent ??= value; continue;
      case 'connection': connection = connection === undefined ? value : `${connection}, ${value}`; continue;
      // Hop-by-hop, or answered by the listener itself (`expect: 100-continue`, once the body is read).
      case 'keep-alive': case 'proxy-connection': case 'te': case 'trailer': case 'upgrade': case 'expect':
        continue;
      case 'transfer-encoding':
        // llhttp decodes `chunked` only; any other coding would be forwarded still encoded.
        if (value.toLowerCase() !== 'chunked') return refuseHead(ctx, 'unsupported Transfer-Encoding (only chunked)');
        ctx.hasBody = true;
        continue;
      case 'content-length': ctx.hasBody = value !== '0'; break;
      default:
        if (options.stripInternalHeaders && lower.startsWith('x-sekisho-')) continue;
        if (ctx.runtime.strippedHeaders.has(lower)) continue;
    }
    out.push(name, value);
  }

  if (host === undefined && req.httpVersionMinor === 1) return refuseHead(ctx, 'an HTTP/1.1 request needs a Host header');
  const target = readTarget(ctx, req.url ?? '/');
  if (target instanceof Problem) return target;
  // An absolute-form target names the authority itself, and then Host is ignored (RFC 9112 §3.2.2):
  // the upstream must get the host that was routed on.
  const absoluteAuthority = target === '' ? undefined : target;
  if (absoluteAuthority === undefined && host !== undefined) ctx.host = hostName(host);
  const authority = absoluteAuthority ?? host ?? '';

  const tokens = connectionTokens(connection);
  if (tokens !== undefined) removeNamed(out, tokens);

  ctx.requestId = requestId !== undefined && requestId.length <= MAX_REQUEST_ID_LENGTH ? requestId : newRequestId();
  const traceId = traceIdOf(traceparent);
  let forwardedTrace: string;
  if (traceId === undefined) {
    const fresh = newTraceparent();
    forwardedTrace = fresh.traceparent;
    ctx.traceId = fresh.traceId;
  } else {
    forwardedTrace = traceparent!;
    ctx.traceId = traceId;
  }

  const peer = peerAddress(req.socket.remoteAddress);
  const scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  if (forwardedFor !== undefined && isTrusted(ctx, peer)) {
    ctx.clientIp = clientFromForwardedFor(ctx, forwardedFor) ?? peer;
    out.push('x-forwarded-for', `${forwardedFor}, ${peer}`);
    out.push('x-forwarded-proto', forwardedProto ?? scheme);
    out.push('x-forwarded-host', forwardedHost ?? authority);
  } else {
    // An untrusted peer's X-Forwarded-* are discarded, not extended: upstreams can trust them.
    ctx.clientIp = peer;
    out.push('x-forwarded-for', peer);
    out.push('x-forwarded-proto', scheme);
    out.push('x-forwarded-host', authority);
  }
  out.push('host', authority, 'x-request-id', ctx.requestId, 'traceparent', forwardedTrace);
  if (ctx.hasBody) ctx.body = req.openBody();
  return undefined;
}

/** What the parser allows but a proxy refuses before looking at any header's meaning. */
function checkFraming(ctx: RequestContext): Problem | undefined {
  const req = ctx.req;
  if (req.httpVersionMajor !== 1) return refuseHead(ctx, 'only HTTP/1.0 and HTTP/1.1 are served');
  const limit = ctx.runtime.config.gateway?.limits.maxHeaderCount ?? DEFAULT_MAX_HEADER_COUNT;
  if (req.rawHeaders.length > 2 * limit) {
    return refuseHead(ctx, `more than ${limit} header fields`, 431);
  }
  return undefined;
}

/**
 * A head no proxy should forward: refused, and the connection closed, since whatever the client
 * sends next on it was framed by a sender that got this one wrong.
 */
function refuseHead(ctx: RequestContext, detail: string, status?: number): Problem {
  ctx.responseHeaders.push('connection', 'close');
  return new Problem('bad_request', detail, undefined, status);
}

/**
 * Origin form (`/p?q`) or absolute form (`http://host/p?q`, how HTTP proxies are addressed):
 * sets path and query, and returns the absolute form's authority (`''` for origin form).
 */
function readTarget(ctx: RequestContext, url: string): Problem | string {
  let pathAndQuery = url;
  let authority = '';
  if (url.charCodeAt(0) !== 0x2f /* / */) {
    const absolute = /^https?:\/\/([^/?#]*)([^#]*)$/i.exec(url);
    if (absolute === null) return new Problem('bad_request', 'request target must be a path or an absolute http URL');
    authority = absolute[1]!;
    ctx.host = hostName(authority);
    pathAndQuery = absolute[2] === '' ? '/' : absolute[2]!;
    if (pathAndQuery.charCodeAt(0) === 0x3f /* ? */) pathAndQuery = '/' + pathAndQuery;
  }
  if (pathAndQuery.includes('#')) return new Problem('bad_request', 'request target must not contain a fragment');
  const q = pathAndQuery.indexOf('?');
  const rawPath = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
  ctx.query = q === -1 ? '' : pathAndQuery.slice(q + 1);
  const path = normalizePath(rawPath);
  if (path instanceof Problem) return path;
  ctx.path = path;
  return authority;
}

/** `Example.com:8080` → `example.com`; `[::1]:80` → `::1`. */
export function hostName(authority: string): string {
  if (authority.charCodeAt(0) === 0x5b /* [ */) {
    const end = authority.indexOf(']');
    return (end === -1 ? authority.slice(1) : authority.slice(1, end)).toLowerCase();
  }
  const colon = authority.indexOf(':');
  return (colon === -1 ? authority : authority.slice(0, colon)).toLowerCase();
}

function peerAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function isTrusted(ctx: RequestContext, address: string): boolean {
  return ctx.runtime.trustedProxies.trusts(address);
}

/** The right-most X-Forwarded-For entry that is not itself a trusted proxy. */
function clientFromForwardedFor(ctx: RequestContext, forwardedFor: string): string | undefined {
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = peerAddress(hops[i]!.trim());
    if (hop !== '' && !isTrusted(ctx, hop)) return hop;
  }
  return undefined;
}

function removeNamed(headers: string[], names: ReadonlySet<string>): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    if (names.has(headers[r]!.toLowerCase())) continue;
    headers[w++] = headers[r]!;
    headers[w++] = headers[r + 1]!;
  }
  headers.length = w;
}

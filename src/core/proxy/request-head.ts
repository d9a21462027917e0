import { isIP } from 'node:net';
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

/**
 * One pass over the raw request head: target → host/path/query (path normalized), client IP,
 * and the header list to forward (hop-by-hop removed, request id, trace context and
 * X-Forwarded-* set). Returns a Problem for a request that must not go further.
 */
export function readRequestHead(ctx: RequestContext, options: HeadOptions): Problem | undefined {
  const req = ctx.req;
  const raw = req.rawHeaders;
  const out = ctx.upstreamHeaders;
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
      case 'host': host ??= value; continue;
      case 'x-forwarded-for': forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`; continue;
      case 'x-forwarded-proto': forwardedProto ??= value; continue;
      case 'x-forwarded-host': forwardedHost ??= value; continue;
      case 'x-request-id': requestId ??= value; continue;
      case 'traceparent': traceparent ??= value; continue;
      case 'connection': connection = connection === undefined ? value : `${connection}, ${value}`; continue;
      // Hop-by-hop, or handled by the upstream client itself (`expect: 100-continue`).
      case 'keep-alive': case 'proxy-connection': case 'te': case 'trailer': case 'upgrade': case 'expect':
        continue;
      case 'transfer-encoding': ctx.hasBody = true; continue;
      case 'content-length': ctx.hasBody = value !== '0'; break;
      default:
        if (options.stripInternalHeaders && lower.startsWith('x-sekisho-')) continue;
        if (ctx.runtime.strippedHeaders.has(lower)) continue;
    }
    out.push(name, value);
  }

  const target = readTarget(ctx, req.url ?? '/');
  if (target !== undefined) return target;
  if (host !== undefined && ctx.host === '') ctx.host = hostName(host);
  const authority = host ?? ctx.host;

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
  if (ctx.hasBody) ctx.body = req;
  return undefined;
}

/** Origin form (`/p?q`) or absolute form (`http://host/p?q`, how HTTP proxies are addressed). */
function readTarget(ctx: RequestContext, url: string): Problem | undefined {
  let pathAndQuery = url;
  if (url.charCodeAt(0) !== 0x2f /* / */) {
    const absolute = /^https?:\/\/([^/?#]*)([^#]*)$/i.exec(url);
    if (absolute === null) return new Problem('bad_request', 'request target must be a path or an absolute http URL');
    ctx.host = hostName(absolute[1]!);
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
  return undefined;
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
  const family = isIP(address); // X-Forwarded-For may hold anything ("unknown", garbage)
  if (family === 0) return false;
  return ctx.runtime.trustedProxies.check(address, family === 6 ? 'ipv6' : 'ipv4');
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

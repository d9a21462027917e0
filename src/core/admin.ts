import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { ListenAddress } from '../config/types.js';
import { PROMETHEUS_CONTENT_TYPE, type MetricsRegistry } from './metrics.js';

/** An admin endpoint: returns the response body (an object becomes JSON) and its status. */
export type AdminRoute = (req: IncomingMessage, url: URL) => AdminReply | Promise<AdminReply>;
export interface AdminReply {
  readonly status?: number;
  readonly body: unknown;
  readonly contentType?: string;
}

export interface AdminOptions {
  readonly address: ListenAddress;
  /** Required when `address` is not loopback; checked on every request (SPEC §5). */
  readonly token?: string;
  readonly metrics: MetricsRegistry;
  /** Whether the proxy should receive traffic (`/ready`). */
  readonly ready: () => boolean;
  /** Role-specific read-only endpoints, by exact path (`/config`, `/clusters`, …). */
  readonly routes: Readonly<Record<string, AdminRoute>>;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * The admin listener every role has: `/live`, `/ready`, `/metrics` and the role's own views.
 * It only reads state; nothing here runs code or changes config.
 */
export function createAdminServer(options: AdminOptions): Server {
  if (!isLoopback(options.address.host) && !options.token) {
    throw new Error(`admin listener on ${options.address.host} is not loopback: set adminToken`);
  }
  const expected = options.token ? Buffer.from(`Bearer ${options.token}`) : undefined;
  return createServer((req, res) => {
    if (expected !== undefined && !tokenMatches(req.headers.authorization, expected)) {
      return reply(res, { status: 401, body: { error: 'admin token required' } });
    }
    const url = new URL(req.url ?? '/', 'http://admin');
    const route = builtIn(url.pathname, options) ?? options.routes[url.pathname];
    if (route === undefined) return reply(res, { status: 404, body: { error: `no admin endpoint ${url.pathname}` } });
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, { status: 405, body: { error: 'read-only endpoint' } });
    Promise.resolve()
      .then(() => route(req, url))
      .then(
        (r) => reply(res, r),
        (e: Error) => reply(res, { status: 500, body: { error: e.message } }),
      );
  });
}

function builtIn(path: string, options: AdminOptions): AdminRoute | undefined {
  switch (path) {
    case '/live':
      return () => ({ body: { status: 'live' } });
    case '/ready':
      return () => (options.ready() ? { body: { status: 'ready' } } : { status: 503, body: { status: 'not ready' } });
    case '/metrics':
      return () => ({ body: options.metrics.render(), contentType: PROMETHEUS_CONTENT_TYPE });
    default:
      return undefined;
  }
}

function tokenMatches(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function reply(res: ServerResponse, r: AdminReply): void {
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body, null, 2) + '\n';
  res.writeHead(r.status ?? 200, {
    'content-type': r.contentType ?? (typeof r.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'),
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

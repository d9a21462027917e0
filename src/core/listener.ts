import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ListenAddress, ListenerLimits } from '../config/types.js';
import { newRequestId } from './headers.js';
import { Problem, problemBody } from './problem.js';

export interface ListenerOptions {
  readonly address: ListenAddress;
  readonly limits: ListenerLimits;
  /** PEM certificate chain and key: serve HTTPS. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The downstream HTTP/1.1 listener with the protections every public port needs: a deadline for
 * the request head (slowloris), an optional one for the whole request, a bounded head size, and
 * Node's strict parser (the lenient one is never enabled: it lets request smuggling through).
 *
 * Requests the parser refuses (hostile framing, an oversized head, a head too slow to arrive)
 * never reach the handler: they get a problem document (SPEC §6) and the connection is closed.
 * The header count is left to the request head reader (431), so Node must not silently drop
 * headers beyond a count of its own.
 */
export function createListener(handler: Handler, options: ListenerOptions): Server {
  const common = {
    headersTimeout: options.limits.headersTimeoutMs,
    requestTimeout: options.limits.requestTimeoutMs,
    keepAliveTimeout: options.limits.keepAliveTimeoutMs,
    maxHeaderSize: options.limits.maxHeaderSize,
    insecureHTTPParser: false,
    // Checked by the request head reader instead, so a missing Host gets a problem document.
    requireHostHeader: false,
    connectionsCheckingInterval: Math.min(1000, options.limits.headersTimeoutMs),
  };
  const server = options.tls
    ? createHttpsServer({ ...common, cert: options.tls.cert, key: options.tls.key }, handler)
    : createHttpServer(common, handler);
  server.keepAliveTimeout = options.limits.keepAliveTimeoutMs;
  server.maxHeadersCount = 0;
  server.on('clientError', answerClientError);
  return server;
}

/** What a parser or timeout error tells the client. */
function clientErrorStatus(code: string | undefined): { status: number; reason: string; detail: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', detail: 'the request head is too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', detail: 'the request was not received in time' };
    default:
      return { status: 400, reason: 'Bad Request', detail: 'the request is not valid HTTP/1.1' };
  }
}

/**
 * Answers a request the parser refused, then closes the connection: after a framing error
 * nothing more on it can be trusted. A response already under way is cut instead.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const inProgress = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent === true) {
    socket.destroy();
    return;
  }
  const { status, reason, detail } = clientErrorStatus(error.code);
  const problem = new Problem('bad_request', detail, undefined, status);
  const body = problemBody(problem, newRequestId());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'content-type: application/problem+json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'x-sekisho-reason: bad_request\r\n' +
      'connection: close\r\n\r\n' +
      body,
  );
  socket.once('finish', () => socket.destroy());
}

/** Binds `server`; rejects with a readable error when the address is taken or invalid. */
export async function listen(server: Server, address: ListenAddress, what: string): Promise<AddressInfo> {
  server.listen(address.port, address.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new Error(`${what} cannot listen on ${formatAddress(address)}: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`);
  }
  return server.address() as AddressInfo;
}

export function formatAddress(address: { host: string; port: number }): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * Graceful stop: no new connections, idle keep-alive connections closed now, the rest closed
 * as their in-flight request ends (responses carry `connection: close` meanwhile), and whatever
 * is still open after `drainMs` cut.
 */
export async function drain(server: Server, idle: () => Promise<void>, drainMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, drainMs);
  });
  await Promise.race([idle(), deadline]);
  clearTimeout(timer);
  server.closeAllConnections();
  await closed;
}

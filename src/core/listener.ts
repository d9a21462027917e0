import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { ListenAddress, ListenerLimits } from '../config/types.js';

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
 */
export function createListener(handler: Handler, options: ListenerOptions): Server {
  const common = {
    headersTimeout: options.limits.headersTimeoutMs,
    requestTimeout: options.limits.requestTimeoutMs,
    keepAliveTimeout: options.limits.keepAliveTimeoutMs,
    maxHeaderSize: options.limits.maxHeaderSize,
    insecureHTTPParser: false,
    requireHostHeader: true,
    connectionsCheckingInterval: Math.min(1000, options.limits.headersTimeoutMs),
  };
  const server = options.tls
    ? createHttpsServer({ ...common, cert: options.tls.cert, key: options.tls.key }, handler)
    : createHttpServer(common, handler);
  server.keepAliveTimeout = options.limits.keepAliveTimeoutMs;
  return server;
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

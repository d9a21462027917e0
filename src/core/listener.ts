import { once } from 'node:events';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { ListenAddress, ListenerLimits } from '../config/types.js';
import { Http1Server, type RequestHandler } from './http1/server.js';

export interface ListenerOptions {
  readonly address: ListenAddress;
  readonly limits: ListenerLimits;
  /** PEM certificate chain and key: serve HTTPS. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

/** The downstream HTTP/1.1 listener of a proxy role (see http1/server.ts for what it guards). */
export function createListener(handler: RequestHandler, options: ListenerOptions): Http1Server {
  return new Http1Server(handler, { limits: options.limits, tls: options.tls });
}

/** Binds `server`; rejects with a readable error when the address is taken or invalid. */
export async function listen(server: Http1Server | NetServer, address: ListenAddress, what: string): Promise<AddressInfo> {
  const net = server instanceof Http1Server ? server.server : server;
  net.listen(address.port, address.host);
  try {
    await once(net, 'listening');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new Error(`${what} cannot listen on ${formatAddress(address)}: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`);
  }
  return net.address() as AddressInfo;
}

export function formatAddress(address: { host: string; port: number }): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * Graceful stop: no new connections, idle keep-alive connections closed now, the rest closed
 * as their in-flight request ends (responses carry `connection: close` meanwhile), and whatever
 * is still open after `drainMs` cut.
 */
export async function drain(server: Http1Server, idle: () => Promise<void>, drainMs: number): Promise<void> {
  const closed = server.close();
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

import { createServer, type Server } from 'node:net';

/**
 * `count` distinct ports that are free on `host` right now: all bound to 0 at once (so none is
 * handed out twice), read, released. Used where a port must be known before its listener exists —
 * a sidecar registers its inbound address before it has the certificate to serve it, `sekisho up`
 * hands ports to apps before they start.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, host, () => resolve((server.address() as { port: number }).port));
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return (await freePorts(1, host))[0]!;
}

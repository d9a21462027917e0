import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { UpstreamHandler, UpstreamRequest } from '../../../src/core/upstream/transport.js';

/** What one exchange delivered to its handler. */
export class Recorder implements UpstreamHandler {
  status = 0;
  statusText = '';
  headers: string[] = [];
  chunks: Buffer[] = [];
  /** Every callback in order, so a test sees double or late calls. */
  readonly calls: string[] = [];
  error: Error | undefined = undefined;
  abort: ((reason?: Error) => void) | undefined = undefined;
  resume: (() => void) | undefined = undefined;
  /** Resolves at onComplete or onError. */
  readonly done: Promise<void>;
  private settle!: () => void;
  /** Return false from onHeaders / onData (flow control tests). */
  pauseOnHeaders = false;
  pauseOnData = false;
  /** Called at each onData (e.g. to abort mid-body). */
  onChunk: ((chunk: Buffer) => void) | undefined = undefined;

  constructor() {
    this.done = new Promise((resolve) => (this.settle = resolve));
  }

  get body(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  get bytes(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  header(name: string): string | undefined {
    for (let i = 0; i < this.headers.length; i += 2) if (this.headers[i]!.toLowerCase() === name) return this.headers[i + 1];
    return undefined;
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.calls.push('connect');
    this.abort = abort;
  }

  onHeaders(status: number, rawHeaders: string[], resume: () => void, statusText: string): boolean {
    this.calls.push(`headers ${status}`);
    this.status = status;
    this.statusText = statusText;
    this.headers = rawHeaders;
    this.resume = resume;
    return !this.pauseOnHeaders;
  }

  onData(chunk: Buffer): boolean {
    this.calls.push('data');
    this.chunks.push(chunk);
    this.onChunk?.(chunk);
    return !this.pauseOnData;
  }

  onComplete(): void {
    this.calls.push('complete');
    this.settle();
  }

  onError(error: Error): void {
    this.calls.push('error');
    this.error = error;
    this.settle();
  }
}

export function get(path = '/', headers: string[] = []): UpstreamRequest {
  return { method: 'GET', path, headers, body: null, headersTimeoutMs: 5000, bodyTimeoutMs: 5000 };
}

export function request(init: Partial<UpstreamRequest> & { body?: Readable | Buffer | null }): UpstreamRequest {
  return { method: 'GET', path: '/', headers: [], body: null, headersTimeoutMs: 5000, bodyTimeoutMs: 5000, ...init };
}

/** A node:http server on 127.0.0.1 that counts the TCP connections it accepted. */
export interface TestHttpServer {
  readonly server: HttpServer;
  readonly origin: string;
  readonly sockets: Socket[];
  close(): Promise<void>;
}

export async function httpServer(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestHttpServer> {
  const server = createHttpServer(handle);
  const sockets: Socket[] = [];
  server.on('connection', (socket: Socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    sockets,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** One connection on a raw server, with what the client sent on it so far. */
export interface RawConnection {
  readonly socket: Socket;
  received: Buffer;
  /** Request heads seen complete on this connection (bodiless requests only). */
  requests: number;
  closed: boolean;
}

/** A TCP server answering with exact bytes: `onRequest` runs once per complete request head. */
export interface TestRawServer {
  readonly origin: string;
  readonly port: number;
  readonly connections: RawConnection[];
  close(): Promise<void>;
}

export async function rawServer(
  onRequest: (connection: RawConnection, head: string, index: number) => void,
  onConnection?: (connection: RawConnection) => void,
): Promise<TestRawServer> {
  const connections: RawConnection[] = [];
  const server: TcpServer = createTcpServer((socket) => {
    const connection: RawConnection = { socket, received: Buffer.alloc(0), requests: 0, closed: false };
    connections.push(connection);
    socket.on('error', () => undefined);
    socket.on('close', () => (connection.closed = true));
    onConnection?.(connection);
    let pending = '';
    socket.on('data', (data: Buffer) => {
      connection.received = Buffer.concat([connection.received, data]);
      pending += data.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        onRequest(connection, head, connection.requests++);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    connections,
    close: async () => {
      for (const c of connections) c.socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Waits (bounded) until `condition` holds, checking after each turn of the event loop and every few ms. */
export async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function code(error: Error | undefined): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ListenAddress, ListenerLimits } from '../config/types.js';
import { createAdminServer } from '../core/admin.js';
import type { HttpRequest, HttpResponse } from '../core/http1/message.js';
import type { Http1Server } from '../core/http1/server.js';
import { createListener, drain, formatAddress, listen } from '../core/listener.js';
import { createLogger } from '../core/log.js';
import { Proxy } from '../core/proxy/proxy.js';
import { ProxyMetrics } from '../core/proxy-metrics.js';
import type { Runtime } from '../core/runtime.js';
import { MeshClient } from '../mesh/client.js';
import { meshConfig, type Snapshot } from '../mesh/snapshot.js';
import { StateDir, type Credentials } from '../mesh/state-dir.js';
import { meshTransports } from '../mesh/transports.js';
import { Generations } from './await-endpoints.js';
import { PendingRequests } from './pending.js';
import { useMeshTls } from './peer.js';
import { buildInboundRuntime, buildOutboundRuntime } from './runtimes.js';

export interface SidecarOptions {
  readonly service: string;
  readonly version: string;
  /** The app's port on 127.0.0.1. */
  readonly appPort: number;
  /** mTLS listener for other mesh members; its port must be fixed (it is registered before it is bound). */
  readonly inbound: ListenAddress;
  /** Plain HTTP listener for the app, on loopback. */
  readonly outbound: ListenAddress;
  readonly admin: ListenAddress;
  /** The address other sidecars reach the inbound listener at (default: the inbound host, or 127.0.0.1 for a wildcard). */
  readonly advertiseHost?: string;
  readonly controlPlanes: readonly string[];
  readonly token: string | undefined;
  readonly caPem: string | undefined;
  readonly stateDir: string;
  readonly logger?: Logger;
  /**
   * The inbound listener could not be opened (it opens once the first certificate is there,
   * possibly long after start). The CLI exits on it, so a supervisor can restart the sidecar.
   */
  readonly onFatal?: (error: Error) => void;
}

/** Requests arriving before the first config wait this long at most. */
const FIRST_CONFIG_WAIT_MS = 10_000;

/** The sidecar's listeners use the gateway's protections, with limits fit for a local hop. */
const LIMITS: ListenerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 0,
  keepAliveTimeoutMs: 65_000,
  maxHeaderSize: 64 * 1024,
  maxHeaderCount: 200,
  drainTimeoutMs: 10_000,
};

/**
 * One sidecar beside one app instance: the proxy core twice over.
 *   outbound (plain HTTP on loopback) → route by service name → mTLS to an instance's sidecar;
 *   inbound (mTLS, mesh CA only) → authorization → the app on 127.0.0.1, with x-sekisho-peer.
 * Certificates and config come from the control plane through the mesh client and persist in
 * the state dir, so the sidecar keeps serving (and restarts) while the control plane is away.
 */
export class Sidecar {
  private readonly metrics = new ProxyMetrics('sidecar');
  private readonly logger: Logger;
  readonly mesh: MeshClient;
  private readonly generations = new Generations();
  private outbound: Proxy | undefined;
  private inbound: Proxy | undefined;
  private readonly pendingOutbound = new PendingRequests(FIRST_CONFIG_WAIT_MS, 'the sidecar');
  private readonly pendingInbound = new PendingRequests(FIRST_CONFIG_WAIT_MS, 'the sidecar');
  private outboundServer: Http1Server | undefined;
  private inboundServer: Http1Server | undefined;
  /** Settles once the inbound listener is bound (it opens with the first certificate). */
  private inboundListening: Promise<void> | undefined;
  private adminServer: Server | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  outboundAddress: AddressInfo | undefined;
  adminAddress: AddressInfo | undefined;

  private constructor(private readonly options: SidecarOptions) {
    this.logger = options.logger ?? createLogger('sidecar');
    const advertiseHost = options.advertiseHost ?? (isWildcard(options.inbound.host) ? '127.0.0.1' : options.inbound.host);
    this.mesh = new MeshClient({
      controlPlanes: options.controlPlanes,
      token: options.token,
      caPem: options.caPem,
      kind: 'svc',
      name: options.service,
      id: `${options.service}-${options.version}@${advertiseHost}:${options.inbound.port}`,
      instance: { version: options.version, host: advertiseHost, port: options.inbound.port },
      state: new StateDir(options.stateDir),
      logger: this.logger,
      apply: (snapshot) => this.apply(snapshot),
      onCredentials: (credentials) => this.useCredentials(credentials),
    });
  }

  /** Binds the outbound and admin listeners at once (the app may call before the mesh is ready) and starts syncing. */
  static async start(options: SidecarOptions): Promise<Sidecar> {
    if (options.inbound.port === 0) throw new Error('the sidecar needs a fixed inbound port (--inbound)');
    const sidecar = new Sidecar(options);
    await sidecar.listen();
    return sidecar;
  }

  private async listen(): Promise<void> {
    const o = this.options;
    this.outboundServer = createListener(this.handleOutbound, { address: o.outbound, limits: LIMITS });
    this.adminServer = createAdminServer({
      address: o.admin,
      metrics: this.metrics.registry,
      ready: () => !this.stopping && this.outbound !== undefined && this.inboundServer?.listening === true,
      routes: {
        '/config': () => ({ body: this.configView() }),
        '/clusters': () => ({ body: { version: this.outbound?.runtime.version ?? 0, services: [...(this.outbound?.runtime.services.values() ?? [])].map((s) => s.snapshot()) } }),
      },
    });
    this.outboundAddress = await listen(this.outboundServer, o.outbound, 'sidecar outbound');
    this.adminAddress = await listen(this.adminServer, o.admin, 'sidecar admin');
    this.expiryTimer = setInterval(() => this.updateCertExpiry(), 1000);
    this.expiryTimer.unref();
    try {
      await this.mesh.start();
    } catch (error) {
      void this.outboundServer.close();
      this.adminServer.close();
      throw error;
    }
    void this.mesh.ready.then(() => this.inboundListening).then(() => {
      this.logger.info(
        {
          service: o.service,
          version: o.version,
          identity: this.mesh.current.spiffeId,
          inbound: formatAddress(o.inbound),
          outbound: formatAddress({ host: this.outboundAddress!.address, port: this.outboundAddress!.port }),
          admin: formatAddress({ host: this.adminAddress!.address, port: this.adminAddress!.port }),
          app: o.appPort,
          configVersion: this.mesh.appliedVersion,
        },
        'sidecar ready',
      );
    });
  }

  private readonly handleOutbound = (req: HttpRequest, res: HttpResponse): void => {
    if (this.outbound !== undefined) this.outbound.handle(req, res);
    else this.pendingOutbound.hold(req, res);
  };

  private readonly handleInbound = (req: HttpRequest, res: HttpResponse): void => {
    if (this.inbound !== undefined) this.inbound.handle(req, res);
    else this.pendingInbound.hold(req, res);
  };

  /** Builds both sides for a snapshot and swaps them in; throws (a rejection) when it cannot. */
  private apply(snapshot: Snapshot): void {
    const o = this.options;
    const config = meshConfig(snapshot);
    if (config.services[o.service] === undefined) throw new Error(`service "${o.service}" is not in the mesh config`);
    const transports = meshTransports(snapshot, this.mesh);
    const outbound = buildOutboundRuntime(config, snapshot.version, this.metrics, this.outbound?.runtime, transports, this.generations);
    const inbound = buildInboundRuntime(config, o.service, { host: '127.0.0.1', port: o.appPort, version: o.version }, snapshot.version, this.metrics, this.inbound?.runtime);
    this.outbound = swap(this.outbound, outbound, this.logger);
    this.inbound = swap(this.inbound, inbound, this.logger);
    this.metrics.configVersion.labels('sidecar').set(snapshot.version);
    this.generations.swapped(outbound);
    this.pendingOutbound.release(this.outbound.handle);
    if (this.inboundServer?.listening) this.pendingInbound.release(this.inbound.handle);
    this.logger.info({ version: snapshot.version, services: Object.keys(config.services).length }, 'config applied');
  }

  /** First credentials open the inbound listener; later ones (renewals) replace its TLS context. */
  private useCredentials(credentials: Credentials): void {
    this.updateCertExpiry();
    if (this.inboundServer !== undefined) {
      useMeshTls(this.inboundServer.tlsServer, credentials, false);
      return;
    }
    const server = createListener(this.handleInbound, { address: this.options.inbound, limits: LIMITS, tls: { cert: Buffer.from(credentials.certPem), key: Buffer.from(credentials.keyPem) } });
    useMeshTls(server.tlsServer, credentials, true);
    this.inboundServer = server;
    this.inboundListening = listen(server, this.options.inbound, 'sidecar inbound').then(
      () => {
        if (this.inbound !== undefined) this.pendingInbound.release(this.inbound.handle);
      },
      (error: Error) => {
        this.logger.fatal({ err: error.message }, 'inbound listener failed');
        this.options.onFatal?.(error);
      },
    );
  }

  private updateCertExpiry(): void {
    if (!this.mesh.hasCredentials) return;
    this.metrics.certExpiry.labels('sidecar').set(Math.max(0, Math.round((this.mesh.current.notAfter - Date.now()) / 1000)));
  }

  private configView(): unknown {
    return {
      version: this.mesh.appliedVersion,
      service: this.options.service,
      instanceVersion: this.options.version,
      ...this.mesh.status(),
      config: this.outbound?.runtime.config ?? null,
    };
  }

  /** Graceful stop: both sides drain, then everything closes. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.mesh.stop();
    clearInterval(this.expiryTimer);
    for (const proxy of [this.outbound, this.inbound]) if (proxy !== undefined) proxy.draining = true;
    await Promise.all([
      this.outboundServer ? drain(this.outboundServer, () => this.outbound?.idle() ?? Promise.resolve(), LIMITS.drainTimeoutMs) : undefined,
      this.inboundServer?.listening ? drain(this.inboundServer, () => this.inbound?.idle() ?? Promise.resolve(), LIMITS.drainTimeoutMs) : undefined,
    ]);
    for (const proxy of [this.outbound, this.inbound]) await proxy?.retire();
    await new Promise<void>((resolve) => (this.adminServer ? this.adminServer.close(() => resolve()) : resolve()));
    this.adminServer?.closeAllConnections();
    this.logger.info('sidecar stopped');
    this.logger.flush();
  }
}

/** Puts `next` in force: a new proxy for the first generation, else an atomic swap of the old one's runtime. */
function swap(proxy: Proxy | undefined, next: Runtime, logger: Logger): Proxy {
  if (proxy === undefined) {
    next.start();
    return new Proxy(next, { stripInternalHeaders: true }, logger);
  }
  proxy.install(next);
  return proxy;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

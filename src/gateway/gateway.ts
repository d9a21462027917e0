import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { formatConfigError, loadConfigFile } from '../config/load.js';
import type { GatewayConfig, SekishoConfig } from '../config/types.js';
import { createAdminServer } from '../core/admin.js';
import type { Http1Server } from '../core/http1/server.js';
import { createListener, drain, formatAddress, listen } from '../core/listener.js';
import { createLogger } from '../core/log.js';
import { Proxy } from '../core/proxy/proxy.js';
import { ProxyMetrics } from '../core/proxy-metrics.js';
import { buildRoutes, buildServices, Runtime, type TransportFactory } from '../core/runtime.js';
import { TrustedProxies } from '../core/trusted-proxies.js';
import { MeshClient } from '../mesh/client.js';
import { meshConfig, type Snapshot } from '../mesh/snapshot.js';
import { StateDir } from '../mesh/state-dir.js';
import { meshTransports } from '../mesh/transports.js';
import { effectiveConfig } from './effective-config.js';
import { buildGatewayPipeline } from './pipeline.js';

export interface GatewayOptions {
  /** The config file: read at start and on every reload. */
  readonly configFile: string;
  /** Reload when the file changes on disk (default true). SIGHUP is wired by the CLI. */
  readonly watch?: boolean;
  readonly logger?: Logger;
}

/** A gateway that is a mesh member: identity and config come from the control plane. */
export interface MemberOptions {
  readonly controlPlanes: readonly string[];
  readonly token: string | undefined;
  /** The mesh CA the control plane's certificate must chain to (else the one in the state dir). */
  readonly caPem: string | undefined;
  /** The gateway's name: its identity is spiffe://<mesh>/gateway/<name>. */
  readonly name: string;
  readonly stateDir: string;
  readonly logger?: Logger;
}

export interface ReloadOutcome {
  readonly ok: boolean;
  readonly version: number;
  readonly errors: readonly string[];
}

/**
 * The gateway: the proxy core with the north–south filters, a public listener and an admin
 * listener. Standalone, it runs a config file with hot reload; as a mesh member, it runs the
 * control plane's snapshots and reaches mesh services over mTLS with its own identity.
 */
export class Gateway {
  private readonly metrics = new ProxyMetrics('gateway');
  private readonly logger: Logger;
  private readonly proxy: Proxy;
  private server: Http1Server | undefined;
  private admin: Server | undefined;
  private watcher: FSWatcher | undefined;
  private reloading: Promise<ReloadOutcome> | undefined;
  private reloadAgain = false;
  private stopping = false;
  /** Where the listeners really are (port 0 in a config means “any free port”). */
  address: AddressInfo | undefined;
  adminAddress: AddressInfo | undefined;

  private expiryTimer: NodeJS.Timeout | undefined;

  /** Set for a mesh member. */
  private readonly mesh: MeshClient | undefined;

  private constructor(
    private readonly options: GatewayOptions,
    initial: SekishoConfig,
    /** A mesh member's client and the snapshot `initial` comes from. */
    member?: { readonly mesh: MeshClient; readonly snapshot: Snapshot },
  ) {
    this.logger = options.logger ?? createLogger('gateway');
    this.mesh = member?.mesh;
    const runtime = this.buildRuntime(initial, member?.snapshot.version ?? 1, undefined, member && meshTransports(member.snapshot, member.mesh));
    this.proxy = new Proxy(runtime, { stripInternalHeaders: true }, this.logger);
  }

  /** Loads the config and starts serving; throws with every config error listed. */
  static async start(options: GatewayOptions): Promise<Gateway> {
    const loaded = await loadConfigFile(options.configFile);
    if (!loaded.ok) throw new Error(loaded.errors.map(formatConfigError).join('\n'));
    if (loaded.config.gateway === undefined) throw new Error(`${options.configFile}: no "gateway" section`);
    const gateway = new Gateway(options, loaded.config);
    await gateway.listen(loaded.config.gateway);
    return gateway;
  }

  /**
   * Joins the mesh, waits for the first config (from the control plane, or the state dir when the
   * control plane is away) and starts serving its `gateway` section; later snapshots are applied
   * like reloads, and acknowledged or rejected.
   */
  static async startMember(options: MemberOptions): Promise<Gateway> {
    const logger = options.logger ?? createLogger('gateway');
    let gateway: Gateway | undefined;
    let first: Snapshot | undefined;
    const mesh = new MeshClient({
      controlPlanes: options.controlPlanes,
      token: options.token,
      caPem: options.caPem,
      kind: 'gateway',
      name: options.name,
      // Unique per process: replicas of one gateway name are separate proxies to the control plane.
      id: `${options.name}@${hostname()}/${process.pid}`,
      state: new StateDir(options.stateDir),
      logger,
      apply: (snapshot) => {
        if (snapshot.config.gateway === undefined) throw new Error('the mesh config has no "gateway" section');
        if (gateway === undefined) first = snapshot;
        else gateway.applySnapshot(snapshot);
      },
      onCredentials: () => gateway?.updateCertExpiry(),
    });
    await mesh.start();
    await mesh.ready;
    gateway = new Gateway({ configFile: '', watch: false, logger }, meshConfig(first!), { mesh, snapshot: first! });
    await gateway.listen(first!.config.gateway!);
    gateway.expiryTimer = setInterval(() => gateway!.updateCertExpiry(), 1000);
    gateway.expiryTimer.unref();
    gateway.updateCertExpiry();
    return gateway;
  }

  get runtime(): Runtime {
    return this.proxy.runtime;
  }

  private async listen(config: GatewayConfig): Promise<void> {
    const tls = config.tls ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } : undefined;
    this.server = createListener(this.proxy.handle, { address: config.listen, limits: config.limits, tls });
    this.admin = createAdminServer({
      address: config.admin,
      token: config.adminToken,
      metrics: this.metrics.registry,
      ready: () => !this.stopping,
      routes: {
        '/config': () => ({ body: this.mesh === undefined ? effectiveConfig(this.runtime) : { ...(effectiveConfig(this.runtime) as object), mesh: this.mesh.status() } }),
        '/clusters': () => ({ body: { version: this.runtime.version, services: [...this.runtime.services.values()].map((s) => s.snapshot()) } }),
      },
    });
    try {
      this.address = await listen(this.server, config.listen, 'gateway');
      this.adminAddress = await listen(this.admin, config.admin, 'gateway admin');
    } catch (error) {
      void this.server.close();
      this.admin.close();
      throw error;
    }
    this.runtime.start();
    if (this.options.watch !== false) this.watchConfigFile();
    const identity = this.mesh?.current.spiffeId;
    this.logger.info({ identity, listen: formatAddress({ host: this.address.address, port: this.address.port }), admin: formatAddress({ host: this.adminAddress.address, port: this.adminAddress.port }), version: this.runtime.version }, 'gateway ready');
  }

  /** `transports`: how endpoints are reached (default plain HTTP; mTLS for a mesh member's mesh services). */
  private buildRuntime(config: SekishoConfig, version: number, previous?: Runtime, transports?: TransportFactory): Runtime {
    const gateway = config.gateway!;
    const services = buildServices(config, this.metrics, previous?.services, transports);
    const { routes, router } = buildRoutes(gateway.routes, services, this.metrics);
    const { pipeline, strippedHeaders } = buildGatewayPipeline(gateway, this.metrics, previous, this.logger);
    this.metrics.configVersion.labels('gateway').set(version);
    return new Runtime(version, config, services, routes, router, pipeline, new TrustedProxies(gateway.trustedProxies), strippedHeaders, this.metrics);
  }

  /**
   * Re-reads the config file, validates it whole and swaps it in atomically. An invalid file
   * changes nothing: its errors are logged and returned, the old config keeps serving.
   * Concurrent calls are coalesced (the file is read again once the running reload ends).
   */
  reload(): Promise<ReloadOutcome> {
    if (this.mesh !== undefined) {
      return Promise.resolve({ ok: false, version: this.runtime.version, errors: ['a mesh member takes its config from the control plane'] });
    }
    if (this.reloading !== undefined) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = this.reloadOnce().finally(() => {
      this.reloading = undefined;
      if (this.reloadAgain && !this.stopping) {
        this.reloadAgain = false;
        void this.reload();
      }
    });
    return this.reloading;
  }

  private async reloadOnce(): Promise<ReloadOutcome> {
    const previous = this.runtime;
    const loaded = await loadConfigFile(this.options.configFile);
    if (!loaded.ok) {
      const errors = loaded.errors.map(formatConfigError);
      this.logger.error({ errors, version: previous.version }, 'config refused; the previous config keeps serving');
      return { ok: false, version: previous.version, errors };
    }
    const config = loaded.config;
    if (config.gateway === undefined) {
      const errors = [`${this.options.configFile}: no "gateway" section`];
      this.logger.error({ errors }, 'config refused; the previous config keeps serving');
      return { ok: false, version: previous.version, errors };
    }
    this.warnAboutRestartOnlyChanges(previous.config.gateway!, config.gateway);
    const next = this.buildRuntime(config, previous.version + 1, previous);
    this.proxy.install(next);
    this.logger.info({ version: next.version, routes: next.routes.length, services: next.services.size }, 'config reloaded');
    return { ok: true, version: next.version, errors: [] };
  }

  /** A pushed snapshot, swapped in like a reload; throwing rejects it and changes nothing. */
  private applySnapshot(snapshot: Snapshot): void {
    if (this.stopping) throw new Error('the gateway is stopping');
    const previous = this.runtime;
    const config = meshConfig(snapshot);
    this.warnAboutRestartOnlyChanges(previous.config.gateway!, config.gateway!);
    const next = this.buildRuntime(config, snapshot.version, previous, meshTransports(snapshot, this.mesh!));
    this.proxy.install(next);
    this.logger.info({ version: next.version, routes: next.routes.length, services: next.services.size }, 'config applied');
  }

  private updateCertExpiry(): void {
    if (this.mesh === undefined || !this.mesh.hasCredentials) return;
    this.metrics.certExpiry.labels('gateway').set(Math.max(0, Math.round((this.mesh.current.notAfter - Date.now()) / 1000)));
  }

  private warnAboutRestartOnlyChanges(before: GatewayConfig, after: GatewayConfig): void {
    const changed = ['listen', 'admin', 'tls', 'limits', 'adminToken'].filter(
      (key) => JSON.stringify(before[key as keyof GatewayConfig]) !== JSON.stringify(after[key as keyof GatewayConfig]),
    );
    if (changed.length > 0) this.logger.warn({ keys: changed.map((k) => `gateway.${k}`) }, 'these changes take effect at the next restart');
  }

  /** Watches the file's folder, not the file: editors save by renaming a new file over it. */
  private watchConfigFile(): void {
    const file = basename(this.options.configFile);
    let debounce: NodeJS.Timeout | undefined;
    this.watcher = watch(dirname(this.options.configFile), (_event, name) => {
      if (name !== file) return;
      clearTimeout(debounce);
      debounce = setTimeout(() => void this.reload(), 50);
    });
    this.watcher.unref();
  }

  /** Graceful stop: readiness goes false, in-flight requests finish (up to drainTimeout), then everything closes. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.logger.info({ inFlight: this.proxy.inFlight }, 'gateway draining');
    this.watcher?.close();
    this.mesh?.stop();
    clearInterval(this.expiryTimer);
    await this.reloading;
    this.proxy.draining = true;
    const limits = this.runtime.config.gateway!.limits;
    if (this.server) await drain(this.server, () => this.proxy.idle(), limits.drainTimeoutMs);
    await this.proxy.retire();
    await new Promise<void>((resolve) => (this.admin ? this.admin.close(() => resolve()) : resolve()));
    this.admin?.closeAllConnections();
    this.logger.info('gateway stopped');
    this.logger.flush();
  }
}

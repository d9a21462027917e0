import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { formatConfigError, loadConfigFile } from '../config/load.js';
import type { GatewayConfig, SekishoConfig } from '../config/types.js';
import { createAdminServer } from '../core/admin.js';
import { createListener, drain, formatAddress, listen } from '../core/listener.js';
import { createLogger } from '../core/log.js';
import { Proxy } from '../core/proxy/proxy.js';
import { ProxyMetrics } from '../core/proxy-metrics.js';
import { buildRoutes, buildServices, buildTrustedProxies, releaseEndpoints, Runtime } from '../core/runtime.js';
import { effectiveConfig } from './effective-config.js';
import { buildGatewayPipeline } from './pipeline.js';

export interface GatewayOptions {
  /** The config file: read at start and on every reload. */
  readonly configFile: string;
  /** Reload when the file changes on disk (default true). SIGHUP is wired by the CLI. */
  readonly watch?: boolean;
  readonly logger?: Logger;
}

export interface ReloadOutcome {
  readonly ok: boolean;
  readonly version: number;
  readonly errors: readonly string[];
}

/**
 * The standalone gateway: the proxy core with the north–south filters, a public listener, an
 * admin listener, and hot reload of its config file.
 */
export class Gateway {
  private readonly metrics = new ProxyMetrics('gateway');
  private readonly logger: Logger;
  private readonly proxy: Proxy;
  private server: Server | undefined;
  private admin: Server | undefined;
  private watcher: FSWatcher | undefined;
  private reloading: Promise<ReloadOutcome> | undefined;
  private reloadAgain = false;
  private stopping = false;
  /** Where the listeners really are (port 0 in a config means “any free port”). */
  address: AddressInfo | undefined;
  adminAddress: AddressInfo | undefined;

  private constructor(
    private readonly options: GatewayOptions,
    initial: SekishoConfig,
  ) {
    this.logger = options.logger ?? createLogger('gateway');
    const runtime = this.buildRuntime(initial, 1);
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
        '/config': () => ({ body: effectiveConfig(this.runtime) }),
        '/clusters': () => ({ body: { version: this.runtime.version, services: [...this.runtime.services.values()].map((s) => s.snapshot()) } }),
      },
    });
    try {
      this.address = await listen(this.server, config.listen, 'gateway');
      this.adminAddress = await listen(this.admin, config.admin, 'gateway admin');
    } catch (error) {
      this.server.close();
      this.admin.close();
      throw error;
    }
    this.runtime.start();
    if (this.options.watch !== false) this.watchConfigFile();
    this.logger.info({ listen: formatAddress({ host: this.address.address, port: this.address.port }), admin: formatAddress({ host: this.adminAddress.address, port: this.adminAddress.port }), version: this.runtime.version }, 'gateway ready');
  }

  private buildRuntime(config: SekishoConfig, version: number, previous?: Runtime): Runtime {
    const gateway = config.gateway!;
    const services = buildServices(config, this.metrics, previous?.services);
    const { routes, router } = buildRoutes(gateway.routes, services, this.metrics);
    const { pipeline, strippedHeaders } = buildGatewayPipeline(gateway, this.metrics, previous);
    this.metrics.configVersion.labels('gateway').set(version);
    return new Runtime(version, config, services, routes, router, pipeline, buildTrustedProxies(gateway.trustedProxies), strippedHeaders, this.metrics);
  }

  /**
   * Re-reads the config file, validates it whole and swaps it in atomically. An invalid file
   * changes nothing: its errors are logged and returned, the old config keeps serving.
   * Concurrent calls are coalesced (the file is read again once the running reload ends).
   */
  reload(): Promise<ReloadOutcome> {
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
    next.start();
    this.proxy.runtime = next;
    previous.stop();
    void releaseEndpoints(previous.services, next.services);
    this.logger.info({ version: next.version, routes: next.routes.length, services: next.services.size }, 'config reloaded');
    return { ok: true, version: next.version, errors: [] };
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
    await this.reloading;
    this.proxy.draining = true;
    const limits = this.runtime.config.gateway!.limits;
    if (this.server) await drain(this.server, () => this.proxy.idle(), limits.drainTimeoutMs);
    this.runtime.stop();
    await releaseEndpoints(this.runtime.services, undefined);
    await new Promise<void>((resolve) => (this.admin ? this.admin.close(() => resolve()) : resolve()));
    this.admin?.closeAllConnections();
    this.logger.info('gateway stopped');
    this.logger.flush();
  }
}

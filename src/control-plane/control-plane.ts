import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { formatConfigError, loadConfigFile, loadConfigString } from '../config/load.js';
import type { ControlPlaneConfig, ListenAddress, SekishoConfig } from '../config/types.js';
import { formatAddress, listen } from '../core/listener.js';
import { createLogger } from '../core/log.js';
import { controlPlaneId, parseSpiffeId, spiffeId, type IdentityKind } from '../mesh/identity.js';
import { createCsr } from '../mesh/pki.js';
import { publicConfig, type Snapshot } from '../mesh/snapshot.js';
import { createAdminApi, type AdminApiHost } from './admin-api.js';
import { CertificateAuthority } from './ca.js';
import { HttpError } from './http-util.js';
import { PushHub, type ProxyStatus } from './push.js';
import { Registry } from './registry.js';
import { openStore, type Store } from './store.js';
import { createXdsServer, type XdsHandlers } from './xds-server.js';

export interface ControlPlaneOptions {
  readonly configFile: string;
  /** Overrides `controlPlane.store`. */
  readonly store?: string;
  /** Override `controlPlane.listen` and `controlPlane.xds` (`sekisho up` hands out free ports). */
  readonly listen?: ListenAddress;
  readonly xds?: ListenAddress;
  /** Where to write the CA certificate (public part) once ready, for proxies' `--ca`. */
  readonly caOut?: string;
  readonly logger?: Logger;
}

/** After a restart, proxies get this long to reconnect before the registry is trusted again. */
export const RESYNC_GRACE_MS = 3000;
/** Streams carry a ping this often; proxies heart-beat at the same pace. */
export const PING_INTERVAL_MS = 5000;
/** An instance whose sidecar stayed silent this long is removed (its stream is probably dead). */
const STALE_AFTER_MS = 3 * PING_INTERVAL_MS;
/** Registry changes within this window are pushed as one snapshot. */
const COALESCE_MS = 20;
const SERVING_CERT_TTL_MS = 365 * 24 * 3600_000;

export interface IssuedRecord {
  readonly identity: string;
  readonly serial: string;
  readonly issuedAt: number;
  readonly notAfter: number;
}

/**
 * The control plane: the mesh CA, the registry, the config store and the push channel (a TLS
 * listener, `controlPlane.xds`), plus the JSON admin API (`controlPlane.listen`).
 *
 * Every change — an instance joining or leaving, a split, a config reload — bumps the version
 * and pushes one whole snapshot to every connected proxy.
 */
export class ControlPlane implements XdsHandlers, AdminApiHost {
  private readonly logger: Logger;
  private readonly hub = new PushHub();
  readonly registry = new Registry(() => this.changed());
  private splits: Record<string, Record<string, number>> = {};
  version = 0;
  private readonly startedAt = Date.now();
  private readonly issued = new Map<string, IssuedRecord>();
  private publishTimer: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private xds: HttpsServer | undefined;
  private admin: Server | undefined;
  xdsAddress: AddressInfo | undefined;
  adminAddress: AddressInfo | undefined;

  private constructor(
    private readonly options: ControlPlaneOptions,
    public config: SekishoConfig,
    readonly ca: CertificateAuthority,
    private readonly store: Store,
  ) {
    this.logger = options.logger ?? createLogger('control-plane');
  }

  static async start(options: ControlPlaneOptions): Promise<ControlPlane> {
    const loaded = await loadControlPlaneConfig(options.configFile);
    const config = withAddresses(loaded, options);
    const cp = config.controlPlane!;
    const store = openStore(options.store ?? cp.store);
    const ca = await loadOrCreateCa(config, cp, store);
    const plane = new ControlPlane(options, config, ca, store);
    await plane.listen(cp);
    return plane;
  }

  private get cpConfig(): ControlPlaneConfig {
    return this.config.controlPlane!;
  }

  private async listen(cp: ControlPlaneConfig): Promise<void> {
    const stored = await this.store.load();
    if (stored !== undefined) {
      this.version = stored.version;
      this.splits = structuredClone(stored.splits) as Record<string, Record<string, number>>;
      this.registry.restore(stored.instances, Date.now());
    }
    const joinToken = cp.joinToken ?? process.env['SEKISHO_JOIN_TOKEN'];
    if (joinToken === undefined || joinToken === '') throw new Error('controlPlane.joinToken is required (or SEKISHO_JOIN_TOKEN in the environment)');
    const serving = await this.servingCertificate();
    this.xds = createXdsServer({ ...serving, caPem: this.ca.certPem, joinToken, meshName: this.config.mesh.name }, this);
    this.admin = createAdminApi(cp.listen, cp.adminToken, this);
    try {
      this.xdsAddress = await listen(this.xds, cp.xds, 'control plane xds');
      this.adminAddress = await listen(this.admin, cp.listen, 'control plane admin');
    } catch (error) {
      this.xds.close();
      this.admin.close();
      throw error;
    }
    if (this.options.caOut !== undefined) await writeFile(this.options.caOut, this.ca.certPem);
    this.timers.push(setInterval(() => this.tick(), 1000));
    this.timers.push(setTimeout(() => this.endResyncGrace(), RESYNC_GRACE_MS));
    this.timers.push(setInterval(() => this.hub.ping(), PING_INTERVAL_MS));
    this.publish();
    this.logger.info(
      {
        xds: formatAddress({ host: this.xdsAddress.address, port: this.xdsAddress.port }),
        listen: formatAddress({ host: this.adminAddress.address, port: this.adminAddress.port }),
        store: this.store.url,
        caFingerprint: await this.ca.fingerprint(),
        version: this.version,
      },
      'control plane ready',
    );
  }

  /** The xds listener's own certificate, from the mesh CA (made fresh at every start). */
  private async servingCertificate(): Promise<{ certPem: string; keyPem: string }> {
    const { keyPem, csrPem } = await createCsr();
    const issued = await this.ca.issue(csrPem, controlPlaneId(this.config.mesh.name), SERVING_CERT_TTL_MS);
    return { certPem: issued.certPem, keyPem };
  }

  private tick(): void {
    const removed = this.registry.sweep(Date.now() - STALE_AFTER_MS, false);
    if (removed.length > 0) this.logger.warn({ instances: removed }, 'instances removed: their sidecars stopped heart-beating');
    for (const id of removed) this.hub.disconnect(id);
    const now = Date.now();
    for (const [serial, record] of this.issued) if (record.notAfter < now) this.issued.delete(serial);
  }

  private endResyncGrace(): void {
    const removed = this.registry.sweep(0, true);
    if (removed.length > 0) this.logger.info({ instances: removed }, 'restored instances removed: their sidecars did not come back');
    this.hub.releaseHeld(Date.now());
  }

  /** Something changed: one new version, pushed after a short coalescing window. */
  private changed(): void {
    if (this.publishTimer !== undefined || this.admin === undefined) return;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined;
      this.publish();
    }, COALESCE_MS);
  }

  private publish(): void {
    this.version++;
    const snapshot: Snapshot = {
      version: this.version,
      config: publicConfig(this.config),
      endpoints: this.registry.endpointsByService(),
      splits: this.splits,
    };
    const { gateway: _gateway, ...sidecarConfig } = snapshot.config;
    this.hub.publish(this.version, { gateway: snapshot, sidecar: { ...snapshot, config: sidecarConfig } });
    void this.store.save({ version: this.version, splits: this.splits, instances: this.registry.stored() }).catch((error: Error) => {
      this.logger.error({ err: error.message }, 'could not save the control plane state');
    });
    this.logger.info({ version: this.version, instances: this.registry.list().length, proxies: this.hub.statuses().length }, 'config pushed');
  }

  // ── push channel (XdsHandlers) ────────────────────────────────────────────────────────────

  async issue(csr: string, kind: IdentityKind, name: string, renewalOf: string | undefined): Promise<{ cert: string; ca: string; notAfter: number }> {
    const id = spiffeId(this.config.mesh.name, kind, name);
    if (renewalOf !== undefined && renewalOf !== id) throw new HttpError(403, `a certificate for ${renewalOf} cannot be renewed as ${id}`);
    if (kind === 'svc' && this.config.services[name] === undefined) throw new HttpError(403, `service "${name}" is not in the mesh config`);
    let issued;
    try {
      issued = await this.ca.issue(csr, id, this.cpConfig.ca.certTTLMs);
    } catch (error) {
      throw new HttpError(400, `bad CSR: ${(error as Error).message}`);
    }
    this.issued.set(issued.serial, { identity: id, serial: issued.serial, issuedAt: Date.now(), notAfter: issued.notAfter });
    this.logger.info({ identity: id, serial: issued.serial, notAfter: new Date(issued.notAfter).toISOString(), renewal: renewalOf !== undefined }, 'certificate issued');
    return { cert: issued.certPem, ca: issued.caPem, notAfter: issued.notAfter };
  }

  stream(peer: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const identity = parseSpiffeId(peer)!;
    const id = query.get('id') ?? '';
    if (id === '') throw new HttpError(400, 'the stream needs an "id"');
    const host = query.get('host') ?? '';
    const port = Number(query.get('port'));
    if (identity.kind === 'svc' && (host === '' || !Number.isInteger(port) || port <= 0)) {
      throw new HttpError(400, 'a sidecar stream needs "host" and "port"');
    }
    const now = Date.now();
    const status: ProxyStatus = {
      id,
      identity: peer,
      kind: identity.kind === 'gateway' ? 'gateway' : 'sidecar',
      name: identity.name,
      remote: req.socket.remoteAddress ?? '',
      connectedAt: now,
      lastSeen: now,
      sentVersion: 0,
      ackedVersion: 0,
      ackedAt: 0,
      rejected: undefined,
    };
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
    req.socket.setKeepAlive(true, PING_INTERVAL_MS);
    // A proxy that already serves a config keeps it through the resync grace of a fresh start.
    const applied = Number(query.get('applied') ?? 0);
    const holdUntil = applied > 0 ? this.startedAt + RESYNC_GRACE_MS : 0;
    this.hub.attach(status, res, holdUntil);
    if (status.kind === 'sidecar') this.register(status, query.get('version') || 'v1', host, port);
    res.on('close', () => {
      if (this.hub.get(id) === undefined && this.registry.get(id)?.identity === peer) {
        this.registry.remove(id);
        this.logger.info({ id, identity: peer }, 'instance left');
      }
    });
    this.logger.info({ id, identity: peer, holdMs: Math.max(0, holdUntil - now) }, 'proxy connected');
  }

  private register(status: ProxyStatus, version: string, host: string, port: number): void {
    this.registry.upsert({
      id: status.id,
      service: status.name,
      version,
      host,
      port,
      identity: status.identity,
      registeredAt: status.connectedAt,
      lastSeen: status.connectedAt,
      health: 'healthy',
    });
  }

  ack(peer: string, id: string, version: number, ok: boolean, reason: string): void {
    const status = this.ownStatus(peer, id);
    status.lastSeen = Date.now();
    if (ok) {
      status.ackedVersion = version;
      status.ackedAt = status.lastSeen;
      status.rejected = undefined;
    } else {
      status.rejected = { version, reason };
      this.logger.warn({ id, identity: peer, version, reason }, 'proxy rejected the config');
    }
  }

  heartbeat(peer: string, id: string): void {
    const now = Date.now();
    this.ownStatus(peer, id).lastSeen = now;
    this.registry.touch(id, now);
  }

  private ownStatus(peer: string, id: string): ProxyStatus {
    const status = this.hub.get(id);
    if (status === undefined || status.identity !== peer) throw new HttpError(404, `no stream "${id}" for ${peer}`);
    return status;
  }

  // ── admin API (AdminApiHost) ──────────────────────────────────────────────────────────────

  proxies(): ProxyStatus[] {
    return this.hub.statuses();
  }

  certificates(): IssuedRecord[] {
    return [...this.issued.values()].sort((a, b) => a.identity.localeCompare(b.identity) || a.issuedAt - b.issuedAt);
  }

  currentSplits(): Readonly<Record<string, Readonly<Record<string, number>>>> {
    return this.splits;
  }

  setSplit(service: string, split: Record<string, number>): number {
    const config = this.config.services[service];
    if (config === undefined) throw new HttpError(404, `no service "${service}"`);
    this.splits = { ...this.splits, [service]: split };
    this.logger.info({ service, split }, 'traffic split changed');
    if (this.publishTimer !== undefined) clearTimeout(this.publishTimer);
    this.publishTimer = undefined;
    this.publish();
    return this.version;
  }

  /** Re-reads the config file; an invalid one changes nothing (its errors are logged and returned). */
  async reload(): Promise<{ ok: boolean; version: number; errors: string[] }> {
    const loaded = await loadConfigFile(this.options.configFile);
    if (!loaded.ok) {
      const errors = loaded.errors.map(formatConfigError);
      this.logger.error({ errors }, 'config refused; the previous config keeps serving');
      return { ok: false, version: this.version, errors };
    }
    // Where the control plane listens and keeps its state is fixed at start.
    this.config = { ...loaded.config, controlPlane: this.config.controlPlane };
    this.publish();
    return { ok: true, version: this.version, errors: [] };
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    clearTimeout(this.publishTimer);
    this.hub.closeAll();
    await Promise.all([closeServer(this.xds), closeServer(this.admin)]);
    await this.store.save({ version: this.version, splits: this.splits, instances: this.registry.stored() }).catch(() => undefined);
    this.logger.info('control plane stopped');
    this.logger.flush();
  }
}

async function loadControlPlaneConfig(file: string): Promise<SekishoConfig> {
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) throw new Error(loaded.errors.map(formatConfigError).join('\n'));
  // A file without a controlPlane section runs one with the defaults.
  if (loaded.config.controlPlane !== undefined) return loaded.config;
  const defaults = await loadConfigString('controlPlane: {}\n', file);
  if (!defaults.ok) throw new Error(defaults.errors.map(formatConfigError).join('\n'));
  return { ...loaded.config, controlPlane: defaults.config.controlPlane };
}

function withAddresses(config: SekishoConfig, options: ControlPlaneOptions): SekishoConfig {
  const cp = config.controlPlane!;
  return { ...config, controlPlane: { ...cp, listen: options.listen ?? cp.listen, xds: options.xds ?? cp.xds } };
}

/** The root from `controlPlane.ca.{cert,key}`, else the store's, else a new one saved to the store. */
async function loadOrCreateCa(config: SekishoConfig, cp: ControlPlaneConfig, store: Store): Promise<CertificateAuthority> {
  if (cp.ca.cert !== undefined && cp.ca.key !== undefined) {
    return CertificateAuthority.load({ certPem: await readFile(cp.ca.cert, 'utf8'), keyPem: await readFile(cp.ca.key, 'utf8') });
  }
  const saved = await store.loadCa();
  if (saved !== undefined) return CertificateAuthority.load(saved);
  const created = await CertificateAuthority.create(config.mesh.name);
  await store.saveCa(created.material);
  return created;
}

function closeServer(server: Server | HttpsServer | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

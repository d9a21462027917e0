import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import type { CredentialSource } from '../core/upstream/mtls.js';
import { parseSpiffeId, spiffeIdOfSan, type IdentityKind } from './identity.js';
import { createCsr } from './csr.js';
import type { Snapshot } from './snapshot.js';
import type { Credentials, StateDir } from './state-dir.js';

export interface MeshClientOptions {
  /** Control-plane push-channel URLs (`https://host:port`), tried in turn: replicas fail over. */
  readonly controlPlanes: readonly string[];
  /** The join token, needed only for the first certificate. */
  readonly token: string | undefined;
  /** The mesh CA (PEM) that the control plane's certificate must chain to; else the one in the state dir. */
  readonly caPem: string | undefined;
  readonly kind: IdentityKind;
  readonly name: string;
  /** Stable across restarts: the control plane's key for this proxy (and for a sidecar, its instance). */
  readonly id: string;
  /** A sidecar's instance: the version it runs and where its inbound listener is. */
  readonly instance?: { readonly version: string; readonly host: string; readonly port: number };
  readonly state: StateDir;
  readonly logger: Logger;
  /** Applies a snapshot; throws to reject it (the message goes back to the control plane). */
  apply(snapshot: Snapshot): Promise<void> | void;
  /** New credentials are in force (first ones, renewal, or read from the state dir). */
  onCredentials(credentials: Credentials): void;
}

const BACKOFF_START_MS = 250;
const BACKOFF_MAX_MS = 2000;
const HEARTBEAT_MS = 5000;
/** Three missed pings and the stream is taken for dead. */
const STREAM_SILENCE_MS = 15_000;
const REQUEST_TIMEOUT_MS = 5000;
/** Idle connections to the control plane are closed after this long. */
const IDLE_CONNECTION_MS = 30_000;

/**
 * A proxy's link to the control plane: its identity (join with the token, renew at half-life with
 * the current certificate, a fresh key each time) and its config (one push stream, each snapshot
 * applied then acknowledged or rejected). Both persist to the state dir, and both survive the
 * control plane going away: the proxy keeps its last good config and certificate, retries with
 * backoff across the control-plane list, and resyncs when one answers.
 */
export class MeshClient implements CredentialSource {
  private credentials: Credentials | undefined;
  /** Version of the snapshot in force (0: none yet). */
  appliedVersion = 0;
  connected = false;
  lastError = '';
  /** The last snapshot this proxy refused, and why (cleared by the next one it applies). */
  lastRejected: { version: number; reason: string } | undefined = undefined;
  private stopped = false;
  private attempt = 0;
  private agent: Agent | undefined;
  private readonly stream = new AbortController();
  private renewTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private markReady: (() => void) | undefined;
  /** Resolves once the proxy has credentials and a config, from disk or from the control plane. */
  readonly ready: Promise<void>;

  constructor(private readonly options: MeshClientOptions) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  get current(): Credentials {
    if (this.credentials === undefined) throw new Error('no mesh certificate yet');
    return this.credentials;
  }

  get hasCredentials(): boolean {
    return this.credentials !== undefined;
  }

  /** Restores the persisted state (serving from it at once if it is usable) and starts syncing. */
  async start(): Promise<void> {
    const saved = await this.options.state.loadCredentials();
    if (saved !== undefined && saved.notAfter > Date.now()) this.useCredentials(saved, false);
    const snapshot = await this.options.state.loadSnapshot();
    if (snapshot !== undefined && this.credentials !== undefined) {
      try {
        await this.options.apply(snapshot);
        this.appliedVersion = snapshot.version;
        this.options.logger.info({ version: snapshot.version }, 'serving the persisted config until the control plane answers');
        this.checkReady();
      } catch (error) {
        this.options.logger.warn({ err: (error as Error).message }, 'persisted config not usable');
      }
    }
    if (this.options.caPem === undefined && this.credentials === undefined) {
      throw new Error('no CA to verify the control plane with: pass --ca FILE (the control plane writes it with --ca-out, and keeps it as ca.pem in a file: store)');
    }
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.stream.abort();
    clearTimeout(this.renewTimer);
    clearInterval(this.heartbeatTimer);
    this.agent?.destroy();
  }

  private get controlPlane(): string {
    const list = this.options.controlPlanes;
    return list[this.attempt % list.length]!;
  }

  /** Connect, follow the stream until it breaks, back off, try the next control plane; forever. */
  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (this.credentials === undefined || this.credentials.notAfter <= Date.now()) await this.join();
        await this.follow(() => (failures = 0));
      } catch (error) {
        if (this.stopped) return;
        const message = (error as Error).message;
        if (message !== this.lastError || failures === 0) this.options.logger.warn({ controlPlane: this.controlPlane, err: message }, 'control plane unreachable; retrying');
        this.lastError = message;
      }
      this.connected = false;
      clearInterval(this.heartbeatTimer);
      if (this.stopped) return;
      this.attempt++;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** failures++) * (0.8 + Math.random() * 0.4);
      // Unref'd: a stopping proxy does not wait for the next attempt.
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }

  /** First certificate, with the join token. */
  private async join(): Promise<void> {
    if (this.options.token === undefined) throw new Error('no valid certificate and no join token (--token)');
    await this.fetchCertificate({ authorization: `Bearer ${this.options.token}` });
  }

  private async fetchCertificate(headers: Record<string, string>): Promise<void> {
    const { keyPem, csrPem } = await createCsr();
    const reply = await this.call('POST', '/v1/certificate', { csr: csrPem, kind: this.options.kind, name: this.options.name }, headers);
    const { cert, ca, notAfter } = reply as { cert: string; ca: string; notAfter: number };
    const received: Credentials = {
      certPem: cert,
      keyPem,
      caPem: ca,
      spiffeId: spiffeIdOfSan(new X509Certificate(cert).subjectAltName),
      notAfter,
      receivedAt: Date.now(),
    };
    await this.options.state.saveCredentials(received);
    this.useCredentials(received, true);
  }

  private useCredentials(credentials: Credentials, fresh: boolean): void {
    this.credentials = credentials;
    // New connections show the new certificate. The old pool's idle ones close now; the push
    // stream on one of them runs on until it breaks, and that connection then idles out.
    const previous = this.agent;
    this.agent = undefined;
    if (previous !== undefined) closeIdle(previous);
    this.options.onCredentials(credentials);
    if (fresh) this.options.logger.info({ identity: credentials.spiffeId, notAfter: new Date(credentials.notAfter).toISOString() }, 'certificate received');
    this.scheduleRenewal(credentials.receivedAt + (credentials.notAfter - credentials.receivedAt) / 2);
    this.checkReady();
  }

  private scheduleRenewal(at: number): void {
    clearTimeout(this.renewTimer);
    if (this.stopped) return;
    this.renewTimer = setTimeout(() => void this.renew(), Math.max(0, at - Date.now()));
  }

  /** Half-life renewal with the current certificate; retried until it works or the certificate expires. */
  private async renew(): Promise<void> {
    try {
      await this.fetchCertificate({});
    } catch (error) {
      const left = this.current.notAfter - Date.now();
      this.options.logger.warn({ err: (error as Error).message, expiresInSeconds: Math.round(left / 1000) }, 'certificate renewal failed; retrying');
      this.scheduleRenewal(Date.now() + Math.max(200, Math.min(BACKOFF_MAX_MS, left / 4)));
    }
  }

  /** Opens the push stream and applies each snapshot until the stream ends. */
  private async follow(onConnected: () => void): Promise<void> {
    const instance = this.options.instance;
    const query = new URLSearchParams({ id: this.options.id, applied: String(this.appliedVersion) });
    if (instance !== undefined) {
      query.set('version', instance.version);
      query.set('host', instance.host);
      query.set('port', String(instance.port));
    }
    const res = await this.send('GET', `/v1/stream?${query}`, { signal: this.stream.signal, silenceMs: STREAM_SILENCE_MS });
    if (res.statusCode !== 200) throw new Error(`stream refused (${res.statusCode}): ${await readText(res)}`);
    this.connected = true;
    this.lastError = '';
    onConnected();
    this.options.logger.info({ controlPlane: this.controlPlane }, 'connected to the control plane');
    this.heartbeatTimer = setInterval(() => void this.call('POST', '/v1/heartbeat', { id: this.options.id }).catch(() => undefined), HEARTBEAT_MS);
    // Decoded as a stream: a character split across two chunks is not garbled.
    res.setEncoding('utf8');
    let pending = '';
    for await (const chunk of res) {
      pending += chunk as string;
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const message = JSON.parse(line) as { type: string; snapshot?: Snapshot };
        if (message.type === 'snapshot') await this.applySnapshot(message.snapshot!);
      }
    }
    throw new Error('the control plane closed the stream');
  }

  private async applySnapshot(snapshot: Snapshot): Promise<void> {
    let reason = '';
    try {
      await this.options.apply(snapshot);
      this.appliedVersion = snapshot.version;
      this.lastRejected = undefined;
      await this.options.state.saveSnapshot(snapshot);
      this.checkReady();
    } catch (error) {
      reason = (error as Error).message;
      this.lastRejected = { version: snapshot.version, reason };
      this.options.logger.error({ version: snapshot.version, err: reason }, 'config rejected; the previous config keeps serving');
    }
    const ack = reason === '' ? { id: this.options.id, version: snapshot.version, ok: true } : { id: this.options.id, version: snapshot.version, ok: false, error: reason };
    await this.call('POST', '/v1/ack', ack).catch((error: Error) => this.options.logger.warn({ err: error.message }, 'could not acknowledge the config'));
  }

  /** Where this proxy stands with the control plane, for its `/config`. */
  status(): Record<string, unknown> {
    const credentials = this.credentials;
    return {
      controlPlane: { connected: this.connected, lastError: this.lastError || null },
      appliedVersion: this.appliedVersion,
      rejected: this.lastRejected ?? null,
      certificate: credentials && {
        identity: credentials.spiffeId,
        notAfter: new Date(credentials.notAfter).toISOString(),
        expiresInSeconds: Math.max(0, Math.round((credentials.notAfter - Date.now()) / 1000)),
      },
    };
  }

  private checkReady(): void {
    if (this.credentials !== undefined && this.appliedVersion > 0) this.markReady?.();
  }

  private async call(method: 'POST', path: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    const res = await this.send(method, path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers }, silenceMs: REQUEST_TIMEOUT_MS });
    const text = await readText(res);
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${text.trim()}`);
    return JSON.parse(text) as unknown;
  }

  /**
   * One request to the current control plane; resolves with the response once its head is in.
   * The head must come within REQUEST_TIMEOUT_MS (connecting included), and the body may then
   * fall silent for `silenceMs` at most: past either, the request fails.
   */
  private send(method: 'GET' | 'POST', path: string, options: { body?: string; headers?: Record<string, string>; signal?: AbortSignal; silenceMs: number }): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      let response: IncomingMessage | undefined;
      const req = request(`${this.controlPlane}${path}`, { method, headers: options.headers, agent: this.dispatcher(), signal: options.signal, timeout: REQUEST_TIMEOUT_MS });
      req.on('timeout', () => {
        const error = new Error(response === undefined ? `${path}: no answer within ${REQUEST_TIMEOUT_MS} ms` : `${path}: silent for ${options.silenceMs} ms`);
        if (response === undefined) req.destroy(error);
        else response.destroy(error);
      });
      req.on('error', reject);
      req.on('response', (res) => {
        response = res;
        req.setTimeout(options.silenceMs);
        resolve(res);
      });
      req.end(options.body);
    });
  }

  /** Connections to the control plane: its certificate must chain to the mesh CA and name it; ours is shown when we have one. */
  private dispatcher(): Agent {
    if (this.agent !== undefined) return this.agent;
    const credentials = this.credentials;
    this.agent = new Agent({
      ca: this.options.caPem ?? credentials!.caPem,
      ...(credentials !== undefined ? { cert: credentials.certPem, key: credentials.keyPem } : {}),
      rejectUnauthorized: true,
      maxCachedSessions: 0,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkControlPlane(cert),
      keepAlive: true,
      // The socket timeout of a connection while it waits in the pool.
      timeout: IDLE_CONNECTION_MS,
    });
    return this.agent;
  }
}

function closeIdle(agent: Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}

async function readText(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk as string;
  return text;
}

function checkControlPlane(cert: PeerCertificate): Error | undefined {
  const id = parseSpiffeId(spiffeIdOfSan(cert.subjectaltname));
  return id?.kind === 'control-plane' ? undefined : new Error(`the control plane's certificate names ${cert.subjectaltname || 'no SPIFFE ID'}`);
}

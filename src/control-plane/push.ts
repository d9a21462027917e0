import type { ServerResponse } from 'node:http';

/** A connected sidecar or gateway and what it did with the snapshots it was sent. */
export interface ProxyStatus {
  /** Chosen by the proxy, stable across its reconnects (its instance id for sidecars). */
  readonly id: string;
  readonly identity: string;
  readonly kind: 'sidecar' | 'gateway';
  readonly name: string;
  readonly remote: string;
  readonly connectedAt: number;
  lastSeen: number;
  /** Last version sent on the stream. */
  sentVersion: number;
  /** Last version the proxy reported applied, and when. */
  ackedVersion: number;
  ackedAt: number;
  /** Last version the proxy refused, with its reason. */
  rejected: { version: number; reason: string } | undefined;
}

interface Connection {
  readonly status: ProxyStatus;
  readonly res: ServerResponse;
  /** Snapshots are held back from this connection until then (see `PushHub.attach`). */
  holdUntil: number;
}

/** Sent on every idle stream so both ends notice a dead connection. */
const PING_LINE = '{"type":"ping"}\n';

/**
 * The push channel's fan-out: one long-lived response per proxy carrying JSON lines. Each
 * snapshot is serialized once per kind of proxy and the same line written to every stream, so a
 * change reaches hundreds of proxies in one pass.
 */
export class PushHub {
  private readonly connections = new Map<string, Connection>();
  private lines = { gateway: '', sidecar: '' };
  private version = 0;

  /**
   * The latest snapshot, in the variant each kind of proxy gets (sidecars have no use for the
   * gateway section and its secrets): written to every connection that is not held.
   */
  publish(version: number, snapshots: { readonly gateway: unknown; readonly sidecar: unknown }): void {
    this.version = version;
    this.lines = {
      gateway: JSON.stringify({ type: 'snapshot', snapshot: snapshots.gateway }) + '\n',
      sidecar: JSON.stringify({ type: 'snapshot', snapshot: snapshots.sidecar }) + '\n',
    };
    const now = Date.now();
    for (const connection of this.connections.values()) if (connection.holdUntil <= now) this.send(connection);
  }

  /**
   * A new stream. `holdUntil` delays its first snapshot: a proxy that already runs a config is
   * better off keeping it than taking a registry a restarted control plane has not refilled yet.
   * A previous stream of the same proxy id is closed.
   */
  attach(status: ProxyStatus, res: ServerResponse, holdUntil: number): void {
    const previous = this.connections.get(status.id);
    if (previous !== undefined && previous.res !== res) previous.res.destroy();
    const connection = { status, res, holdUntil };
    this.connections.set(status.id, connection);
    res.on('close', () => {
      if (this.connections.get(status.id) === connection) this.connections.delete(status.id);
    });
    if (this.version !== 0 && holdUntil <= Date.now()) this.send(connection);
  }

  /** Sends the latest snapshot to held connections whose hold has ended. */
  releaseHeld(now: number): void {
    for (const connection of this.connections.values()) {
      if (connection.holdUntil <= now && connection.status.sentVersion !== this.version) this.send(connection);
    }
  }

  /** Ends one proxy's stream (it reconnects, and a sidecar registers again). */
  disconnect(id: string): void {
    this.connections.get(id)?.res.destroy();
  }

  ping(): void {
    for (const { res } of this.connections.values()) res.write(PING_LINE);
  }

  get(id: string): ProxyStatus | undefined {
    return this.connections.get(id)?.status;
  }

  statuses(): ProxyStatus[] {
    return [...this.connections.values()].map((c) => c.status).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Ends every stream (control-plane stop): proxies reconnect to another replica or retry. */
  closeAll(): void {
    for (const { res } of this.connections.values()) res.destroy();
    this.connections.clear();
  }

  private send(connection: Connection): void {
    connection.status.sentVersion = this.version;
    connection.res.write(this.lines[connection.status.kind]);
  }
}

import type { MeshEndpoint } from '../mesh/snapshot.js';
import type { StoredInstance } from './store.js';

/** One instance of a service, known through its sidecar's push-channel connection. */
export interface Instance extends StoredInstance {
  /** The sidecar's SPIFFE ID. */
  readonly identity: string;
  readonly registeredAt: number;
  lastSeen: number;
  /**
   * `healthy` while its sidecar is connected and heart-beating; `restored` for an instance read
   * back from the store after a restart, kept until its sidecar reconnects or the grace ends.
   */
  health: 'healthy' | 'restored';
}

/**
 * The service registry: which instances exist, where their sidecars listen, which version they
 * run. Every change calls `onChange` (the control plane then pushes a new snapshot).
 */
export class Registry {
  private readonly instances = new Map<string, Instance>();

  constructor(private readonly onChange: () => void) {}

  upsert(instance: Instance): void {
    this.instances.set(instance.id, instance);
    this.onChange();
  }

  remove(id: string): void {
    if (this.instances.delete(id)) this.onChange();
  }

  get(id: string): Instance | undefined {
    return this.instances.get(id);
  }

  touch(id: string, now: number): void {
    const instance = this.instances.get(id);
    if (instance !== undefined) instance.lastSeen = now;
  }

  /** Instances from the store, shown as `restored` until their sidecars come back. */
  restore(stored: readonly StoredInstance[], now: number): void {
    for (const s of stored) {
      this.instances.set(s.id, { ...s, identity: '', registeredAt: now, lastSeen: now, health: 'restored' });
    }
    if (stored.length > 0) this.onChange();
  }

  /** Drops restored instances whose sidecar did not reconnect, and silent ones (no heartbeat since `staleBefore`). */
  sweep(staleBefore: number, dropRestored: boolean): string[] {
    const removed: string[] = [];
    for (const instance of this.instances.values()) {
      if ((dropRestored && instance.health === 'restored') || (instance.health === 'healthy' && instance.lastSeen < staleBefore)) {
        removed.push(instance.id);
      }
    }
    for (const id of removed) this.instances.delete(id);
    if (removed.length > 0) this.onChange();
    return removed;
  }

  list(): Instance[] {
    return [...this.instances.values()].sort((a, b) => a.service.localeCompare(b.service) || a.id.localeCompare(b.id));
  }

  /** service → endpoints, the form pushed to proxies. */
  endpointsByService(): Record<string, MeshEndpoint[]> {
    const out: Record<string, MeshEndpoint[]> = {};
    for (const i of this.list()) (out[i.service] ??= []).push({ host: i.host, port: i.port, version: i.version });
    return out;
  }

  stored(): StoredInstance[] {
    return this.list().map(({ id, service, version, host, port }) => ({ id, service, version, host, port }));
  }
}

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../control-plane/store.js';
import type { TlsCredentials } from '../core/upstream/mtls.js';
import type { Snapshot } from './snapshot.js';

/** A proxy's credentials with what it needs to know about them. */
export interface Credentials extends TlsCredentials {
  readonly spiffeId: string;
  /** ms since the epoch. */
  readonly notAfter: number;
  /** When this proxy received it; renewal is due at half the way from here to `notAfter`. */
  readonly receivedAt: number;
}

/**
 * A proxy's state folder, what makes it statically stable: its last certificate and key and the
 * last snapshot it applied, so a restart while the control plane is away still serves.
 *   cert.json (0600: holds the private key)   snapshot.json
 */
export class StateDir {
  constructor(readonly dir: string) {}

  async loadCredentials(): Promise<Credentials | undefined> {
    return readJsonFile<Credentials>(join(this.dir, 'cert.json'));
  }

  async saveCredentials(credentials: Credentials): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeAtomically(join(this.dir, 'cert.json'), JSON.stringify(credentials), 0o600);
  }

  async loadSnapshot(): Promise<Snapshot | undefined> {
    return readJsonFile<Snapshot>(join(this.dir, 'snapshot.json'));
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeAtomically(join(this.dir, 'snapshot.json'), JSON.stringify(snapshot), 0o600);
  }
}

async function readJsonFile<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

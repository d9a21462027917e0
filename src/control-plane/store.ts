import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CaMaterial } from './ca.js';

/** A registered instance as the store keeps it (restored for a grace period after a restart). */
export interface StoredInstance {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  readonly host: string;
  readonly port: number;
}

/** The control plane's durable state: everything proxies were told, so a restart tells them the same. */
export interface StoredState {
  readonly version: number;
  readonly splits: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly instances: readonly StoredInstance[];
}

/**
 * Where the control plane keeps its CA and state. `memory` keeps nothing across restarts (the CA
 * is new each run); `file:DIR` survives them.
 */
export interface Store {
  /** How the store was given (`memory`, `file:/abs/dir`), for logs. */
  readonly url: string;
  loadCa(): Promise<CaMaterial | undefined>;
  saveCa(ca: CaMaterial): Promise<void>;
  load(): Promise<StoredState | undefined>;
  save(state: StoredState): Promise<void>;
}

export function openStore(url: string): Store {
  if (url === 'memory') return new MemoryStore();
  if (url.startsWith('file:')) return new FileStore(url, url.slice('file:'.length));
  if (url.startsWith('etcd://')) {
    throw new Error(`store ${url}: the etcd store is not available in this version; use "memory" or "file:DIR"`);
  }
  throw new Error(`store ${url}: expected memory, file:DIR or etcd://HOST:PORT`);
}

class MemoryStore implements Store {
  readonly url = 'memory';
  private ca: CaMaterial | undefined;
  private state: StoredState | undefined;
  async loadCa(): Promise<CaMaterial | undefined> {
    return this.ca;
  }
  async saveCa(ca: CaMaterial): Promise<void> {
    this.ca = ca;
  }
  async load(): Promise<StoredState | undefined> {
    return this.state;
  }
  async save(state: StoredState): Promise<void> {
    this.state = state;
  }
}

/** `DIR/ca.pem`, `DIR/ca-key.pem` (0600) and `DIR/state.json`, each replaced atomically. */
class FileStore implements Store {
  private writing = Promise.resolve();

  constructor(
    readonly url: string,
    private readonly dir: string,
  ) {}

  async loadCa(): Promise<CaMaterial | undefined> {
    const certPem = await readOptional(join(this.dir, 'ca.pem'));
    const keyPem = await readOptional(join(this.dir, 'ca-key.pem'));
    return certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : undefined;
  }

  async saveCa(ca: CaMaterial): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeAtomically(join(this.dir, 'ca-key.pem'), ca.keyPem, 0o600);
    await writeAtomically(join(this.dir, 'ca.pem'), ca.certPem, 0o644);
  }

  async load(): Promise<StoredState | undefined> {
    const text = await readOptional(join(this.dir, 'state.json'));
    return text === undefined ? undefined : (JSON.parse(text) as StoredState);
  }

  /** Saves are serialized so an older state never lands after a newer one. */
  save(state: StoredState): Promise<void> {
    this.writing = this.writing.then(async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeAtomically(join(this.dir, 'state.json'), JSON.stringify(state), 0o600);
    });
    return this.writing;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Write-then-rename: a crash leaves the old file or the new one, never half of one. */
export async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode });
  await rename(temp, file);
}

import { resolve } from 'node:path';
import { ControlPlane } from '../control-plane/control-plane.js';
import { localAddress, serveUntilSignal } from './serve.js';

export interface ControlPlaneCliOptions {
  readonly config: string;
  readonly store?: string;
  readonly caOut?: string;
  readonly listen?: string;
  readonly xds?: string;
}

/** `sekisho control-plane -c FILE [--store URL] [--ca-out FILE] [--listen ADDR] [--xds ADDR]`: serves until SIGTERM/SIGINT; SIGHUP reloads the file. */
export async function runControlPlane(opts: ControlPlaneCliOptions): Promise<number> {
  let plane: ControlPlane;
  try {
    plane = await ControlPlane.start({
      configFile: resolve(opts.config),
      store: opts.store,
      caOut: opts.caOut && resolve(opts.caOut),
      listen: opts.listen === undefined ? undefined : localAddress(opts.listen),
      xds: opts.xds === undefined ? undefined : localAddress(opts.xds),
    });
  } catch (error) {
    process.stderr.write(`sekisho control-plane: ${(error as Error).message}\n`);
    return 1;
  }
  await serveUntilSignal(() => plane.stop(), () => plane.reload());
  return 0;
}

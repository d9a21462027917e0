import { resolve } from 'node:path';
import { Sidecar } from '../sidecar/sidecar.js';
import { controlPlaneList, localAddress, readCa, serveUntilSignal } from './serve.js';

export interface SidecarCliOptions {
  readonly service: string;
  readonly version: string;
  readonly appPort: string;
  readonly controlPlane: string;
  readonly token?: string;
  readonly inbound: string;
  readonly outbound: string;
  readonly admin: string;
  readonly ca?: string;
  readonly stateDir?: string;
}

/** `sekisho sidecar --service S --app-port P --control-plane URL --token T …`: serves until SIGTERM/SIGINT. */
export async function runSidecar(opts: SidecarCliOptions): Promise<number> {
  let sidecar: Sidecar;
  try {
    const inbound = localAddress(opts.inbound);
    sidecar = await Sidecar.start({
      service: opts.service,
      version: opts.version,
      appPort: Number(opts.appPort),
      inbound,
      outbound: localAddress(opts.outbound),
      admin: localAddress(opts.admin),
      controlPlanes: controlPlaneList(opts.controlPlane),
      token: opts.token ?? process.env['SEKISHO_JOIN_TOKEN'],
      caPem: readCa(opts.ca),
      stateDir: resolve(opts.stateDir ?? `.sekisho/sidecar-${opts.service}-${inbound.port}`),
      onFatal: (error) => {
        process.stderr.write(`sekisho sidecar: ${error.message}\n`);
        process.exit(1);
      },
    });
  } catch (error) {
    process.stderr.write(`sekisho sidecar: ${(error as Error).message}\n`);
    return 1;
  }
  await serveUntilSignal(() => sidecar.stop());
  return 0;
}

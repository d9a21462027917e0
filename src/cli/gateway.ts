import { resolve } from 'node:path';
import { Gateway } from '../gateway/gateway.js';
import { controlPlaneList, readCa, serveUntilSignal } from './serve.js';

export interface GatewayCliOptions {
  readonly config?: string;
  readonly watch: boolean;
  readonly controlPlane?: string;
  readonly token?: string;
  readonly name: string;
  readonly ca?: string;
  readonly stateDir?: string;
}

/**
 * `sekisho gateway -c FILE` (standalone; reloads on SIGHUP and file changes) or
 * `sekisho gateway --control-plane URL --token T [--name N]` (a mesh member). Serves until
 * SIGTERM/SIGINT (graceful drain); resolves to the exit code once stopped.
 */
export async function runGateway(opts: GatewayCliOptions): Promise<number> {
  let gateway: Gateway;
  try {
    if (opts.controlPlane !== undefined) {
      if (opts.config !== undefined) throw new Error('give either -c FILE or --control-plane URL, not both');
      gateway = await Gateway.startMember({
        controlPlanes: controlPlaneList(opts.controlPlane),
        token: opts.token ?? process.env['SEKISHO_JOIN_TOKEN'],
        caPem: readCa(opts.ca),
        name: opts.name,
        stateDir: resolve(opts.stateDir ?? `.sekisho/gateway-${opts.name}`),
      });
    } else {
      if (opts.config === undefined) throw new Error('give -c FILE (standalone) or --control-plane URL --token T (mesh member)');
      gateway = await Gateway.start({ configFile: resolve(opts.config), watch: opts.watch });
    }
  } catch (error) {
    process.stderr.write(`sekisho gateway: ${(error as Error).message}\n`);
    return 1;
  }
  await serveUntilSignal(() => gateway.stop(), () => gateway.reload());
  return 0;
}

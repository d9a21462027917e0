import { readFileSync } from 'node:fs';
import { parseListen } from '../config/units.js';
import type { ListenAddress } from '../config/types.js';

/**
 * Set by `sekisho up` for the processes it starts: their stdin is a pipe from `up`, and its end
 * (however `up` ended, even killed with SIGKILL) stops them like SIGTERM does.
 */
export const STOP_WITH_PARENT_ENV = 'SEKISHO_STOP_WITH_PARENT';

/**
 * Serves until SIGTERM/SIGINT (or, under `sekisho up`, the end of stdin), then runs `stop` (a
 * graceful drain) and resolves; SIGHUP calls `reload` when given.
 */
export async function serveUntilSignal(stop: () => Promise<void>, reload?: () => unknown): Promise<void> {
  const onHup = (): void => void reload?.();
  if (reload !== undefined) process.on('SIGHUP', onHup);
  const withParent = process.env[STOP_WITH_PARENT_ENV] === '1';
  await new Promise<void>((done) => {
    const onStop = (): void => {
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      process.off('SIGHUP', onHup);
      if (withParent) process.stdin.off('end', onStop).destroy();
      void stop().then(done);
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    if (withParent) process.stdin.on('end', onStop).resume();
  });
}

/** `15001` (a port alone means loopback here), `127.0.0.1:15001`, `[::1]:15001`. */
export function localAddress(value: string): ListenAddress {
  return /^\d+$/.test(value) ? { host: '127.0.0.1', port: Number(value) } : parseListen(value);
}

/** `--control-plane a,b` → `['https://a', 'https://b']` (a scheme may be given; it must be https). */
export function controlPlaneList(value: string): string[] {
  return value.split(',').map((entry) => {
    const trimmed = entry.trim().replace(/\/+$/, '');
    if (trimmed.startsWith('http://')) throw new Error(`--control-plane ${trimmed}: the push channel is TLS, use https://`);
    return trimmed.startsWith('https://') ? trimmed : `https://${trimmed}`;
  });
}

/** The mesh CA to trust the control plane with: `--ca FILE`, else `SEKISHO_CA` (a file), else none (the state dir may have it). */
export function readCa(file: string | undefined): string | undefined {
  const path = file ?? process.env['SEKISHO_CA'];
  return path === undefined || path === '' ? undefined : readFileSync(path, 'utf8');
}

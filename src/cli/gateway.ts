import { resolve } from 'node:path';
import { Gateway } from '../gateway/gateway.js';

/**
 * `sekisho gateway -c FILE`: serves until SIGTERM/SIGINT (graceful drain), reloads on SIGHUP.
 * Resolves to the exit code once stopped.
 */
export async function runGateway(configFile: string, watch: boolean): Promise<number> {
  let gateway: Gateway;
  try {
    gateway = await Gateway.start({ configFile: resolve(configFile), watch });
  } catch (error) {
    process.stderr.write(`sekisho gateway: ${(error as Error).message}\n`);
    return 1;
  }
  process.on('SIGHUP', () => void gateway.reload());
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void gateway.stop().then(done);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}

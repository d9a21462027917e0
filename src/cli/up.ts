import { resolve } from 'node:path';
import { Up } from '../up/up.js';

/** `sekisho up [FILE]`: runs until SIGINT/SIGTERM, then stops every process it started. */
export async function runUp(file: string): Promise<number> {
  let up: Up;
  try {
    up = await Up.start(resolve(file));
  } catch (error) {
    process.stderr.write(`sekisho up: ${(error as Error).message}\n`);
    return 1;
  }
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void up.stop().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

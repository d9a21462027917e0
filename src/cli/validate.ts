import { formatConfigError, loadConfigFile } from '../config/load.js';

/**
 * `sekisho validate FILE`: prints `FILE: ok` and returns 0, or prints every error as
 * `FILE:LINE:COL key.path: message` to `err`, one per line in file order, and returns 1.
 * FILE is echoed as given, so the lines are clickable from where the command ran.
 */
export async function runValidate(
  file: string,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const result = await loadConfigFile(file);
  if (result.ok) {
    out.write(`${file}: ok\n`);
    return 0;
  }
  for (const error of result.errors) err.write(`${formatConfigError(error)}\n`);
  return 1;
}

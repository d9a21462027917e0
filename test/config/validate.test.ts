import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * `sekisho validate FILE` end to end, through the real CLI in a child process: every
 * `broken/NAME.yaml` must exit 1 with exactly the stderr lines of `broken/NAME.expected`. The CLI
 * runs inside the folder of the file and is given its bare name, so the expected lines hold the
 * path as typed.
 */
const here = dirname(fileURLToPath(import.meta.url));
const brokenDir = join(here, 'broken');
// The built CLI, as users run it (`npm test` builds first); much faster to start than tsx.
const cli = join(here, '..', '..', 'dist', 'cli', 'main.js');
const execFileAsync = promisify(execFile);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function validate(file: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [cli, 'validate', file], { cwd, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

// unset-env.yaml relies on these being unset, whatever the environment of the test run.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith('SEKISHO_TEST_UNSET_')),
);

describe('sekisho validate: the broken corpus', { concurrency: true }, () => {
  const files = readdirSync(brokenDir).filter((name) => name.endsWith('.yaml'));
  test('finds the corpus', () => assert.ok(files.length > 0));
  for (const file of files) {
    test(file, async () => {
      const expected = readFileSync(join(brokenDir, file.replace(/\.yaml$/, '.expected')), 'utf8');
      const run = await validate(file, brokenDir, cleanEnv);
      assert.equal(run.stderr, expected);
      assert.equal(run.stdout, '');
      assert.equal(run.code, 1);
    });
  }
});

describe('sekisho validate', { concurrency: true }, () => {
  test('a valid file: one line on stdout, exit 0', async () => {
    const run = await validate('fixtures/spec-example.yaml', here, { ...cleanEnv, SEKISHO_JOIN_TOKEN: 'token' });
    assert.deepEqual(run, { code: 0, stdout: 'fixtures/spec-example.yaml: ok\n', stderr: '' });
  });

  test('a missing file: one error line, exit 1', async () => {
    const run = await validate('missing.yaml', here, cleanEnv);
    assert.deepEqual(run, { code: 1, stdout: '', stderr: 'missing.yaml: cannot read the file: no such file\n' });
  });
});

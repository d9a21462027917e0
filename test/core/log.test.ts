import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const LOG_MODULE = join(import.meta.dirname, '../../src/core/log.ts');

/** Runs `body` in a child process with the logger imported as `createLogger`; returns its output and exit code. */
async function runChild(body: string, env: Record<string, string>, closeStdout = false): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const script = `import { createLogger } from ${JSON.stringify(LOG_MODULE)};\n${body}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10_000, // a child stuck on a dead stdout fails the test instead of hanging it
  });
  let stdout = '';
  let stderr = '';
  if (closeStdout) child.stdout.destroy();
  else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { stdout, stderr, code };
}

describe('JSON logger (pino, as Sekisho configures it)', () => {
  it('writes one JSON object per line with the level name, the time and the component, at or above the level', async () => {
    const { stdout, code } = await runChild(
      `const log = createLogger('gateway');
       log.debug('hidden'); log.info({ route: 'api', n: 2, skipped: undefined }, 'hello "there"'); log.warn('careful');`,
      { SEKISHO_LOG_LEVEL: 'info' },
    );
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    assert.deepEqual(Object.keys(lines[0]!).sort(), ['component', 'level', 'msg', 'n', 'route', 'time']);
    assert.equal(lines[0]!.level, 'info');
    assert.equal(lines[0]!.component, 'gateway');
    assert.equal(lines[0]!.msg, 'hello "there"');
    assert.ok(!Number.isNaN(Date.parse(lines[0]!.time as string)));
    assert.deepEqual([lines[1]!.level, lines[1]!.msg], ['warn', 'careful']);
  });

  it('writes nothing when silent', async () => {
    const silent = await runChild(`createLogger('x').fatal('no');`, { SEKISHO_LOG_LEVEL: 'silent' });
    assert.equal(silent.code, 0);
    assert.equal(silent.stdout, '');
  });

  it('keeps the process running when whoever read stdout is gone (EPIPE)', async () => {
    const { stderr, code } = await runChild(
      `const log = createLogger('sidecar');
       let n = 0;
       const timer = setInterval(() => { log.info({ n: n++ }, 'tick'); if (n === 30) { clearInterval(timer); process.stderr.write('served on\\n'); } }, 5);`,
      { SEKISHO_LOG_LEVEL: 'info' },
      true,
    );
    assert.equal(code, 0, stderr);
    assert.match(stderr, /served on/);
  });
});

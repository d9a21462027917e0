import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { client, eventually, send } from '../helpers/http.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';

function config(a: Upstream, b: Upstream, target: 'a' | 'b', generation: number): string {
  return `
# generation ${generation}
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes:
    - { name: main, match: { pathPrefix: / }, service: ${target} }
services:
  a: { endpoints: [${a.url}] }
  b: { endpoints: [${b.url}] }
`;
}

async function configVersion(gw: GatewayProc): Promise<number> {
  return (await send(`${gw.adminUrl}/config`)).json<{ version: number }>().version;
}

describe('hot reload', () => {
  let a: Upstream;
  let b: Upstream;
  let gw: GatewayProc;

  before(async () => {
    [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
    gw = await startGateway(config(a, b, 'a', 0));
  });
  after(stopAll);

  it('reloads 20 times under continuous traffic with zero failed requests', async () => {
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    const worker = async (): Promise<void> => {
      const dispatcher = client();
      // Bounded: stops when the reloads are done, or after 20,000 requests whatever happens.
      for (let i = 0; i < 20_000 && !stop; i++) {
        try {
          const r = await send(`${gw.url}/echo`, { dispatcher });
          if (r.status === 200) {
            ok++;
            seen.add(r.json().name as string);
          } else failures.push(`${r.status} ${r.text}`);
        } catch (error) {
          failures.push(String(error));
        }
      }
      await dispatcher.close();
    };
    const workers = Array.from({ length: 4 }, worker);

    const start = await configVersion(gw);
    for (let i = 1; i <= 20; i++) {
      writeFileSync(gw.configFile, config(a, b, i % 2 === 0 ? 'a' : 'b', i));
      // Alternate between the file watcher and SIGHUP as the trigger.
      if (i % 2 === 0) gw.proc.child.kill('SIGHUP');
      await eventually(async () => ((await configVersion(gw)) >= start + i ? true : undefined), 5000, `reload ${i}`);
    }
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(failures, []);
    assert.ok(ok > 100, `only ${ok} requests went through`);
    assert.deepEqual(seen, new Set(['a', 'b']), 'both generations served');
  });

  it('refuses an invalid file and keeps serving the old config', async () => {
    const before = await configVersion(gw);
    const target = (await send(`${gw.url}/echo`)).json().name;
    writeFileSync(gw.configFile, 'gateway:\n  listen: 127.0.0.1:0\n  routes:\n    - { name: x, match: { pathPrefix: / }, service: missing }\n  bogus: 1\n');
    gw.proc.child.kill('SIGHUP');
    const refused = await eventually(async () =>
      gw.proc.logs().find((l) => l['msg'] === 'config refused; the previous config keeps serving' && JSON.stringify(l['errors']).includes('bogus')));
    const errors = refused['errors'] as string[];
    assert.ok(errors.some((e) => /bogus/.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => /missing/.test(e)), errors.join('\n'));
    assert.equal(await configVersion(gw), before);
    const r = await send(`${gw.url}/echo`);
    assert.equal(r.status, 200);
    assert.equal(r.json().name, target);
  });
});

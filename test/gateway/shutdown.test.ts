import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { send } from '../helpers/http.js';
import { oneServiceGateway } from '../helpers/configs.js';
import { startGateway, startUpstream, stopAll } from '../helpers/processes.js';

describe('graceful shutdown', () => {
  after(stopAll);

  it('finishes an in-flight slow request on SIGTERM, refuses new work, exits 0', async () => {
    const app = await startUpstream('app');
    const gw = await startGateway(oneServiceGateway([app.url]));
    const slow = request(`${gw.url}/slow?ms=1500`);
    await app.proc.waitForLine((l) => l.startsWith('slow request'));
    gw.proc.child.kill('SIGTERM');
    await gw.proc.waitForLine((l) => l.includes('"gateway draining"'));
    assert.equal((await send(`${gw.adminUrl}/ready`)).status, 503, 'not ready while draining');
    const res = await slow;
    assert.equal(res.statusCode, 200);
    assert.equal(((await res.body.json()) as { slow: boolean }).slow, true);
    assert.equal(await gw.proc.exited, 0);
    await assert.rejects(send(`${gw.url}/echo`));
  });
});

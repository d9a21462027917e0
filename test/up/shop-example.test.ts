import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { send } from '../helpers/http.js';
import { CLI, ROOT, startProcess, stopAll, type Proc } from '../helpers/processes.js';

interface Placed {
  order: { id: string; user: string };
  charge: { charged: boolean; version: string; caller: string; tax?: number };
  calledBy: string;
}

/** examples/shop as its README runs it: `sekisho up`, a token from auth, an order through the mesh. */
describe('examples/shop', () => {
  let up: Proc;
  let gateway: string;

  before(async () => {
    up = startProcess([CLI, 'up', join(ROOT, 'examples/shop/sekisho.yaml')], { SHOP_PORT: '0', SHOP_ADMIN_PORT: '0', SHOP_CP_PORT: '0', SHOP_XDS_PORT: '0' });
    await up.waitForLine((l) => l === 'sekisho up: ready', 40_000);
    gateway = /^ {2}gateway +(http:\/\/\S+)/m.exec(up.lines.join('\n'))![1]!;
  });
  after(async () => {
    await up?.stop('SIGTERM');
    await stopAll();
  });

  async function token(user: string): Promise<string> {
    const res = await send(`${gateway}/token`, { method: 'POST', body: JSON.stringify({ user }) });
    assert.equal(res.status, 200, res.text);
    return res.json<{ token: string }>().token;
  }

  function order(bearer: string | undefined): ReturnType<typeof send> {
    return send(`${gateway}/orders`, {
      method: 'POST',
      headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ item: 'tea', amount: 12 }),
    });
  }

  it('refuses an order without a token', async () => {
    const res = await order(undefined);
    assert.equal(res.status, 401);
    assert.equal(res.headers['x-sekisho-reason'], 'unauthorized');
  });

  it('places an order: gateway (JWT) → orders (Node.js) → billing (Python), both versions serving', async () => {
    const alice = await token('alice');
    const versions = new Set<string>();
    for (let i = 0; i < 30 && versions.size < 2; i++) {
      const res = await order(alice);
      if (res.status === 429) {
        await new Promise((r) => setTimeout(r, 1000)); // the example's rate limit (5/s) at work
        continue;
      }
      assert.equal(res.status, 201, res.text);
      const placed = res.json<Placed>();
      assert.equal(placed.order.user, 'alice');
      assert.equal(placed.calledBy, 'spiffe://shop/gateway/edge');
      assert.equal(placed.charge.caller, 'spiffe://shop/svc/orders');
      assert.equal(placed.charge.tax !== undefined, placed.charge.version === 'v2');
      versions.add(placed.charge.version);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual([...versions].sort(), ['v1', 'v2']);
  });

  it('rate-limits a burst with 429 and Retry-After', async () => {
    const bob = await token('bob');
    const answers = await Promise.all(Array.from({ length: 15 }, () => order(bob)));
    const limited = answers.filter((r) => r.status === 429);
    assert.ok(limited.length > 0, answers.map((r) => r.status).join(' '));
    assert.ok(Number(limited[0]!.headers['retry-after']) >= 1);
  });
});

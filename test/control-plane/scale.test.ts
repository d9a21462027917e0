import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { createCsr } from '../../src/mesh/pki.js';
import { eventually, send } from '../helpers/http.js';
import { JOIN_TOKEN, meshYaml, startControlPlane, type ControlPlaneProc } from '../helpers/mesh.js';
import { stopAll } from '../helpers/processes.js';

const PROXIES = 500;

describe('the push channel at scale', () => {
  let cp: ControlPlaneProc;
  let streams: Agent;
  let acks: Agent;
  const aborts: AbortController[] = [];

  before(async () => {
    cp = await startControlPlane(meshYaml('mesh: { name: shop }\nservices:\n  billing: {}\n'));
    const ca = readFileSync(cp.caFile, 'utf8');
    const { csrPem, keyPem } = await createCsr();
    const joining = new Agent({ connect: { ca, checkServerIdentity: () => undefined } });
    const issued = await send(`${cp.xdsUrl}/v1/certificate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${JOIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ csr: csrPem, kind: 'gateway', name: 'load' }),
      dispatcher: joining,
    });
    const connect = { ca, cert: issued.json<{ cert: string }>().cert, key: keyPem, checkServerIdentity: () => undefined };
    streams = new Agent({ connect, connections: PROXIES + 10, bodyTimeout: 0 });
    acks = new Agent({ connect, connections: 32 });
  });
  after(async () => {
    for (const abort of aborts) abort.abort();
    await Promise.allSettled([streams?.destroy(), acks?.destroy()]);
    await stopAll();
  });

  /** One simulated proxy: follows its stream and acknowledges every snapshot. */
  async function follow(id: string): Promise<void> {
    const abort = new AbortController();
    aborts.push(abort);
    const res = await request(`${cp.xdsUrl}/v1/stream?id=${id}`, { dispatcher: streams, signal: abort.signal });
    assert.equal(res.statusCode, 200);
    void (async () => {
      let pending = '';
      try {
        for await (const chunk of res.body) {
          pending += (chunk as Buffer).toString();
          let newline: number;
          while ((newline = pending.indexOf('\n')) !== -1) {
            const message = JSON.parse(pending.slice(0, newline)) as { type: string; snapshot?: { version: number } };
            pending = pending.slice(newline + 1);
            if (message.type !== 'snapshot') continue;
            const ack = await request(`${cp.xdsUrl}/v1/ack`, {
              method: 'POST',
              dispatcher: acks,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ id, version: message.snapshot!.version, ok: true }),
            });
            await ack.body.dump();
          }
        }
      } catch {
        // aborted at the end of the test
      }
    })();
  }

  it(`brings a change to ${PROXIES} connected proxies, all acknowledged within 2 s`, async () => {
    for (let i = 0; i < PROXIES; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => follow(`load-${i + j}`)));
    await eventually(async () => {
      const view = (await send(`${cp.adminUrl}/api/proxies`)).json<{ version: number; proxies: { ackedVersion: number }[] }>();
      return view.proxies.length === PROXIES && view.proxies.every((p) => p.ackedVersion === view.version) ? true : undefined;
    }, 20_000, 'every proxy connected and in sync');

    const started = Date.now();
    const put = await send(`${cp.adminUrl}/api/services/billing/split`, { method: 'PUT', body: JSON.stringify({ v1: 50, v2: 50 }) });
    const version = put.json<{ version: number }>().version;
    await eventually(async () => {
      const view = (await send(`${cp.adminUrl}/api/proxies`)).json<{ proxies: { ackedVersion: number }[] }>();
      return view.proxies.filter((p) => p.ackedVersion >= version).length === PROXIES ? true : undefined;
    }, 2000, `all ${PROXIES} acknowledging version ${version}`);
    assert.ok(Date.now() - started <= 2000);
  });
});

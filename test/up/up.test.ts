import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { eventually, send } from '../helpers/http.js';
import { CLI, ROOT, startProcess, stopAll, tempDir, type Proc } from '../helpers/processes.js';

const CONFIG = `
mesh: { name: shop }
controlPlane:
  listen: 127.0.0.1:0
  xds: 127.0.0.1:0
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes:
    - { name: orders, match: { pathPrefix: /orders }, service: orders, stripPrefix: /orders }
services:
  orders:
    run:
      - { version: v1, command: 'node "$FIXTURE"', env: { NAME: orders } }
  billing:
    authorization:
      allow:
        - from: [orders]
    run:
      - { version: v1, command: 'node "$FIXTURE"', replicas: 2, env: { NAME: billing-v1 } }
      - { version: v2, command: 'exec node "$FIXTURE"', env: { NAME: billing-v2 } }
`;

interface Call {
  name: string;
  peer: string;
  status: number;
  body: { name: string; headers: Record<string, string> };
}

/** Every process below `pid`, from the process table. */
function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid=']).toString().trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of table) if (ppid === parent) (found.push(child), queue.push(child));
  }
  return found;
}

/** Running, that is: present and not a zombie (an exited orphan that this container's PID 1 may never reap). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('sekisho up', () => {
  let up: Proc;
  let gatewayUrl: string;
  let instances: Map<string, number[]>;

  before(async () => {
    const dir = tempDir();
    const file = join(dir, 'sekisho.yaml');
    writeFileSync(file, CONFIG);
    up = startProcess([CLI, 'up', file], { FIXTURE: join(ROOT, 'test/fixtures/upstream.mjs') });
    await up.waitForLine((l) => l === 'sekisho up: ready', 40_000);
    gatewayUrl = /^ {2}gateway +(http:\/\/\S+)/m.exec(up.lines.join('\n'))![1]!;
    instances = new Map();
    for (const line of up.lines) {
      const m = /^ {2}(\S+#\d+) +(\d+) +(\d+) +(\d+) +(\d+)$/.exec(line);
      if (m) instances.set(m[1]!, [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])]);
    }
  });
  after(async () => {
    await up?.stop('SIGTERM');
    await stopAll();
  });

  it('prints a status table with the gateway and every instance, with its ports', () => {
    assert.deepEqual([...instances.keys()].sort(), ['billing/v1#1', 'billing/v1#2', 'billing/v2#1', 'orders/v1#1']);
    assert.match(up.lines.join('\n'), /control plane +admin http:\/\/127\.0\.0\.1:\d+ +xds https:\/\/127\.0\.0\.1:\d+/);
  });

  it('runs the apps in the mesh: gateway → orders → billing, every replica and version reachable', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 3; i++) {
      const res = await send(`${gatewayUrl}/orders/call/billing/charge`);
      assert.equal(res.status, 200, res.text);
      const call = res.json<Call>();
      assert.equal(call.status, 200, JSON.stringify(call));
      assert.equal(call.body.headers['x-sekisho-peer'], 'spiffe://shop/svc/orders');
      seen.add(`${call.body.name}:${call.body.headers['host']}`);
    }
    const names = [...seen].map((s) => s.split(':')[0]);
    assert.ok(names.includes('billing-v1') && names.includes('billing-v2'), [...seen].join(', '));
  });

  it('prefixes every line of every process with its name', () => {
    const prefixes = new Set(up.lines.map((l) => /^(\S+(?: sidecar)?) +\| /.exec(l)?.[1]).filter((p) => p !== undefined));
    for (const name of ['control-plane', 'gateway', 'orders/v1#1', 'billing/v1#2 sidecar']) assert.ok(prefixes.has(name), `${name} in ${[...prefixes].join(', ')}`);
  });

  it('restarts a crashed app with backoff', async () => {
    const [appPort] = instances.get('orders/v1#1')!;
    await send(`http://127.0.0.1:${appPort}/control/exit`).catch(() => undefined);
    await up.waitForLine((l) => /^orders\/v1#1 +\| exited \(code 1\); restarting in 0\.5s$/.test(l));
    await eventually(async () => ((await send(`${gatewayUrl}/orders/call/billing/charge`)).status === 200 ? true : undefined), 15_000, 'orders back');
  });

  it('stops everything on SIGTERM, leaving no process and no listener behind', async () => {
    const children = descendants(up.child.pid!);
    assert.ok(children.length >= 10, `only ${children.length} processes under sekisho up`);
    const ports = [...instances.values()].flat();
    assert.equal(await up.stop('SIGTERM'), 0);
    assert.ok(up.lines.includes('sekisho up: stopped'));
    const left = children.filter(alive);
    const detail = left.length ? execFileSync('ps', ['-o', 'pid,ppid,pgid,stat,args', '-p', left.join(',')]).toString() : '';
    assert.deepEqual(left, [], `still running:\n${detail}`);
    for (const port of ports) assert.equal(await accepts(port), false, `port ${port} still open`);
  });
});

describe('sekisho up killed with SIGKILL', () => {
  after(stopAll);

  it('takes its control plane, gateway and sidecars down with it', async () => {
    const dir = tempDir();
    const file = join(dir, 'sekisho.yaml');
    writeFileSync(file, `
controlPlane: { listen: 127.0.0.1:0, xds: 127.0.0.1:0 }
services:
  solo:
    run:
      - { version: v1, command: 'exec node "$FIXTURE"' }
`);
    const up = startProcess([CLI, 'up', file], { FIXTURE: join(ROOT, 'test/fixtures/upstream.mjs') });
    await up.waitForLine((l) => l === 'sekisho up: ready', 40_000);
    const children = descendants(up.child.pid!);
    const sekisho = children.filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dist/cli/main.js'));
    assert.equal(sekisho.length, 2, 'the control plane and one sidecar');
    await up.stop('SIGKILL');
    try {
      await eventually(async () => (sekisho.some(alive) ? undefined : true), 15_000, 'the sekisho processes gone');
    } finally {
      // The app itself is not sekisho's to stop once `up` is gone (see the report): clean it up here.
      for (const pid of children) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

// COUNT simulated sidecars in one process, for the control-plane push benchmark. Each is the real
// mesh client of the built package (MESH_DIST/client.js, MESH_DIST being dist/mesh): it joins with the token (its own key and
// CSR), registers an instance of service SERVICE, follows the push stream, persists and
// acknowledges every snapshot — everything a sidecar does with the control plane except proxying.
// Env: COUNT, SERVICE, CONTROL_PLANE (https://…), TOKEN, CA_FILE, STATE_ROOT, MESH_DIST.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';

const { COUNT, SERVICE, CONTROL_PLANE, TOKEN, CA_FILE, STATE_ROOT, MESH_DIST } = process.env;
const { MeshClient } = await import(pathToFileURL(join(MESH_DIST, 'client.js')).href);
const { StateDir } = await import(pathToFileURL(join(MESH_DIST, 'state-dir.js')).href);
const logger = pino({ level: 'warn' });
const caPem = readFileSync(CA_FILE, 'utf8');

const clients = Array.from({ length: Number(COUNT) }, (_, i) => new MeshClient({
  controlPlanes: [CONTROL_PLANE],
  token: TOKEN,
  caPem,
  kind: 'svc',
  name: SERVICE,
  id: `${SERVICE}-${i}`,
  // Nothing listens there: no one sends them traffic, the registry only needs an address.
  instance: { version: 'v1', host: '127.0.0.1', port: 20_000 + i },
  state: new StateDir(join(STATE_ROOT, String(i))),
  logger,
  apply() {},
  onCredentials() {},
}));

process.on('SIGTERM', () => {
  for (const client of clients) client.stop();
  process.exit(0);
});

await Promise.all(clients.map((client) => client.start()));
await Promise.all(clients.map((client) => client.ready));
process.stdout.write(`ready ${clients.length}\n`);

/**
 * The native peers besides nginx — HAProxy (`mode http`) and Caddy (`reverse_proxy`) — and
 * `direct`, the client talking to the upstream with no proxy at all. Each proxy gets one thread.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary, freePort, PROXY_CORE, start, waitForAnswer } from '../lib/process.js';
import { BODY_BYTES, PROXIED_PATH, UPSTREAM_PATH, type StartedTarget, type Target } from './target.js';

const HAPROXY = findBinary('haproxy', '/usr/sbin/haproxy');
const CADDY = findBinary('caddy', '/usr/bin/caddy');

export const direct: Target = {
  name: 'direct (no proxy)',
  kind: 'direct',
  unavailable: () => undefined,
  async start(upstreamPort): Promise<StartedTarget> {
    return { url: `http://127.0.0.1:${upstreamPort}${UPSTREAM_PATH}`, proc: undefined, stop: async () => {} };
  },
};

export const haproxy: Target = {
  name: 'HAProxy',
  kind: 'native',
  unavailable: () => (HAPROXY ? undefined : 'haproxy is not installed (Debian: haproxy)'),
  async start(upstreamPort, dir): Promise<StartedTarget> {
    const port = await freePort();
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(
      file,
      `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend bench
  bind 127.0.0.1:${port}
  default_backend app
backend app
  http-request replace-path /api(/.*) \\1
  server app 127.0.0.1:${upstreamPort} maxconn 1000
`,
    );
    const proc = start({ name: 'HAProxy', core: PROXY_CORE, command: HAPROXY!, args: ['-f', file, '-db'], logFile: join(dir, 'haproxy.log') });
    const url = `http://127.0.0.1:${port}${PROXIED_PATH}`;
    await waitForAnswer(proc, url, { status: 200, bodyBytes: BODY_BYTES });
    return { url, proc, stop: () => proc.stop() };
  },
};

export const caddy: Target = {
  name: 'Caddy',
  kind: 'native',
  unavailable: () => (CADDY ? undefined : 'caddy is not installed (Debian: caddy)'),
  async start(upstreamPort, dir): Promise<StartedTarget> {
    const port = await freePort();
    const file = join(dir, 'Caddyfile');
    writeFileSync(
      file,
      `{
  admin off
  auto_https off
}
http://127.0.0.1:${port} {
  bind 127.0.0.1
  handle_path /api/* {
    reverse_proxy 127.0.0.1:${upstreamPort}
  }
}
`,
    );
    // GOMAXPROCS=1: one thread running Go code, as every other peer gets one worker.
    const proc = start({
      name: 'Caddy',
      core: PROXY_CORE,
      command: CADDY!,
      args: ['run', '--config', file, '--adapter', 'caddyfile'],
      env: { GOMAXPROCS: '1', XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      logFile: join(dir, 'caddy.log'),
    });
    const url = `http://127.0.0.1:${port}${PROXIED_PATH}`;
    await waitForAnswer(proc, url, { status: 200, bodyBytes: BODY_BYTES });
    return { url, proc, stop: () => proc.stop() };
  },
};

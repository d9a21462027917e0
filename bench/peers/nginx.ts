/**
 * nginx in its three benchmark parts: the upstream (1 KiB answers), the gateway peer (prefix
 * strip, upstream keep-alive, no access log), and the two halves of the mTLS sidecar pair.
 * Every instance is one process with one worker (`master_process off`), configured in a temp dir.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INBOUND_SERVER_NAME, type TlsFiles } from '../lib/certs.js';
import { findBinary, freePort, LOAD_CORE, PROXY_CORE, start, waitForAnswer, type Running } from '../lib/process.js';
import { BODY_BYTES, PROXIED_PATH, UPSTREAM_PATH, type StartedTarget, type Target } from './target.js';

export const NGINX = findBinary('nginx', '/usr/sbin/nginx');

/** A single-process nginx whose `http {}` block is `http`. */
function config(dir: string, http: string): string {
  return `daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http}
}
`;
}

function run(name: string, core: number, dir: string, http: string): Running {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, config(dir, http));
  return start({ name, core, command: NGINX!, args: ['-c', file, '-p', dir], logFile: join(dir, 'stderr.log') });
}

/** Upstream keep-alive settings every nginx proxy uses (without them nginx reconnects per request). */
const KEEPALIVE_PROXYING = `proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_buffering on;`;

export interface Upstream {
  readonly port: number;
  readonly proc: Running;
}

/** The app behind every proxy: answers `GET /bench` with 1 KiB, anything else 404. Runs on the load core. */
export async function startUpstream(dir: string): Promise<Upstream> {
  if (!NGINX) throw new Error('nginx is not installed (Debian: nginx-light); it serves as the benchmark upstream');
  const port = await freePort();
  const body = 'x'.repeat(BODY_BYTES);
  const proc = run('upstream nginx', LOAD_CORE, dir, `  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = ${UPSTREAM_PATH} { return 200 "${body}"; }
    location / { return 404; }
  }`);
  await waitForAnswer(proc, `http://127.0.0.1:${port}${UPSTREAM_PATH}`, { status: 200, bodyBytes: BODY_BYTES });
  return { port, proc };
}

export const nginxGateway: Target = {
  name: 'nginx',
  kind: 'native',
  unavailable: () => (NGINX ? undefined : 'nginx is not installed (Debian: nginx-light)'),
  async start(upstreamPort, dir): Promise<StartedTarget> {
    const port = await freePort();
    const proc = run('nginx', PROXY_CORE, dir, `  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location /api/ {
      proxy_pass http://app/;
      ${KEEPALIVE_PROXYING}
    }
  }`);
    const url = `http://127.0.0.1:${port}${PROXIED_PATH}`;
    await waitForAnswer(proc, url, { status: 200, bodyBytes: BODY_BYTES });
    return { url, proc, stop: () => proc.stop() };
  },
};

/**
 * The nginx sidecar pair: the outbound half takes plain HTTP from the client and opens mTLS to the
 * inbound half (verifying its certificate against the mesh CA), which checks the client certificate
 * and forwards to the app — the same hop two Sekisho sidecars make.
 */
export async function startNginxMeshPair(
  appPort: number,
  dirs: { outbound: string; inbound: string },
  tls: { outbound: TlsFiles; inbound: TlsFiles },
): Promise<StartedTarget> {
  const inboundPort = await freePort();
  const inbound = run('nginx inbound sidecar', PROXY_CORE, dirs.inbound, `  upstream app { server 127.0.0.1:${appPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${inboundPort} ssl backlog=4096;
    ssl_certificate ${tls.inbound.cert};
    ssl_certificate_key ${tls.inbound.key};
    ssl_client_certificate ${tls.inbound.ca};
    ssl_verify_client on;
    ssl_protocols TLSv1.3;
    ssl_session_cache shared:inbound:1m;
    location / {
      proxy_pass http://app;
      ${KEEPALIVE_PROXYING}
    }
  }`);
  const outboundPort = await freePort();
  const outbound = run('nginx outbound sidecar', PROXY_CORE, dirs.outbound, `  upstream peer { server 127.0.0.1:${inboundPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${outboundPort} backlog=4096;
    location / {
      proxy_pass https://peer;
      ${KEEPALIVE_PROXYING}
      proxy_ssl_certificate ${tls.outbound.cert};
      proxy_ssl_certificate_key ${tls.outbound.key};
      proxy_ssl_trusted_certificate ${tls.outbound.ca};
      proxy_ssl_verify on;
      proxy_ssl_name ${INBOUND_SERVER_NAME};
      proxy_ssl_protocols TLSv1.3;
      proxy_ssl_session_reuse on;
    }
  }`);
  const url = `http://127.0.0.1:${outboundPort}${UPSTREAM_PATH}`;
  await waitForAnswer(outbound, url, { status: 200, bodyBytes: BODY_BYTES });
  return {
    url,
    proc: outbound,
    stop: async () => {
      await Promise.all([outbound.stop(), inbound.stop()]);
    },
  };
}

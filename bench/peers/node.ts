/**
 * The Node.js proxies a user would pick instead of Sekisho: the minimal `node:http` + undici Pool
 * proxy and `@fastify/http-proxy`. Both are plain .mjs files run by `node` itself (no loader).
 */
import { join } from 'node:path';
import { freePort, PROXY_CORE, start, waitForAnswer } from '../lib/process.js';
import { BODY_BYTES, PROXIED_PATH, type StartedTarget, type Target } from './target.js';

function nodePeer(name: string, script: string): Target {
  return {
    name,
    kind: 'node',
    unavailable: () => undefined,
    async start(upstreamPort, dir): Promise<StartedTarget> {
      const port = await freePort();
      const proc = start({
        name,
        core: PROXY_CORE,
        command: process.execPath,
        args: [join(import.meta.dirname, script)],
        env: { PORT: String(port), UPSTREAM: `http://127.0.0.1:${upstreamPort}`, NODE_ENV: 'production' },
        logFile: join(dir, 'output.log'),
      });
      const url = `http://127.0.0.1:${port}${PROXIED_PATH}`;
      await waitForAnswer(proc, url, { status: 200, bodyBytes: BODY_BYTES });
      return { url, proc, stop: () => proc.stop() };
    },
  };
}

export const undiciProxy = nodePeer('node:http + undici', 'undici-proxy.mjs');
export const fastifyProxy = nodePeer('@fastify/http-proxy', 'fastify-proxy.mjs');

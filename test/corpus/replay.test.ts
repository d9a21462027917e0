import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { send } from '../helpers/http.js';
import { rawRequest } from '../helpers/raw.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';

/**
 * Replays every request of `hostile/` (HTTP/1.1 framing attacks) and `paths/` (path-normalization
 * bypasses) over a raw TCP socket to a real gateway with auth on `/api/admin`, and checks each
 * outcome: the status (or a closed connection), the problem code, and what the upstream saw —
 * nothing at all unless the case expects a 200, and then exactly the path it names.
 */
interface Case {
  readonly description: string;
  readonly request: string;
  readonly expect: {
    readonly status?: number;
    readonly reason?: string;
    readonly closed?: boolean;
    readonly upstreamPath?: string;
    readonly upstreamHost?: string;
  };
}

function loadCases(folder: string): [string, Case][] {
  const dir = join(import.meta.dirname, folder);
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => [`${folder}/${f.slice(0, -5)}`, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Case]);
}

describe('hostile requests and path bypasses, replayed over raw sockets', () => {
  let app: Upstream;
  let gw: GatewayProc;

  before(async () => {
    app = await startUpstream('app');
    gw = await startGateway(`
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  maxBodySize: 1kb
  auth: { jwt: { secret: "a-shared-secret-of-at-least-32-bytes!" } }
  routes:
    - { name: admin, match: { pathPrefix: /api/admin }, service: app }
    - { name: public, match: { pathPrefix: /api/public }, service: app, auth: none }
services:
  app: { endpoints: [${app.url}] }
`);
  });
  after(stopAll);

  for (const [name, c] of [...loadCases('hostile'), ...loadCases('paths')]) {
    it(`${name}: ${c.description}`, async () => {
      await send(`${app.url}/control/forget`);
      const port = Number(new URL(gw.url).port);
      const outcome = await rawRequest(port, [c.request], { awaitClose: c.expect.closed === true });
      const { status, reason, closed, upstreamPath, upstreamHost } = c.expect;
      assert.equal(outcome.status, status, `status (headers: ${JSON.stringify(outcome.headers)})`);
      if (status !== undefined && status >= 400) {
        assert.equal(outcome.headers['content-type'], 'application/problem+json');
        assert.ok(outcome.headers['x-sekisho-reason'], 'x-sekisho-reason');
      }
      if (reason !== undefined) assert.equal(outcome.headers['x-sekisho-reason'], reason);
      if (closed === true) assert.equal(outcome.closed, true, 'the connection is closed');

      const seen = (await send(`${app.url}/control/seen`)).json<{ url: string; headers: Record<string, string> }[]>();
      if (upstreamPath === undefined) {
        assert.deepEqual(seen.map((s) => s.url), [], 'the upstream never saw the request');
      } else {
        assert.deepEqual(seen.map((s) => s.url), [upstreamPath], 'the upstream got exactly the normalized path');
        if (upstreamHost !== undefined) assert.equal(seen[0]!.headers['host'], upstreamHost);
      }
    });
  }
});

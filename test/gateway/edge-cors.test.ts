import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../helpers/http.js';
import { claimsFor, sign } from '../helpers/jwt.js';
import { startGateway, startUpstream, stopAll, type GatewayProc, type Upstream } from '../helpers/processes.js';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example.net';
const SECRET = 'a-shared-secret-of-at-least-32-bytes!';

function corsGateway(upstream: string, cors: string): string {
  return `
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  cors: ${cors}
  auth: { jwt: { secret: "${SECRET}" } }
  routes: [{ name: api, match: { pathPrefix: /api }, service: app }]
services:
  app: { endpoints: [${upstream}] }
`;
}

function preflight(url: string, origin: string, method = 'PUT'): ReturnType<typeof send> {
  return send(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
  });
}

function varies(value: unknown): string[] {
  return [value].flat().join(',').split(',').map((v) => v.trim().toLowerCase());
}

describe('CORS at the gateway', () => {
  let app: Upstream;
  let gw: GatewayProc;
  let wildcard: GatewayProc;
  let token: string;

  before(async () => {
    app = await startUpstream('app');
    [gw, wildcard] = await Promise.all([
      startGateway(corsGateway(app.url, `{ allowOrigins: [${APP}], allowMethods: [GET, POST, PUT], allowHeaders: [authorization, content-type],
          exposeHeaders: [x-request-id], allowCredentials: true, maxAge: 10m }`)),
      startGateway(corsGateway(app.url, '{ allowOrigins: ["*"], allowCredentials: true }')),
    ]);
    token = await sign(claimsFor({ sub: 'alice' }), { alg: 'HS256', secret: new TextEncoder().encode(SECRET) });
    await send(`${app.url}/control/forget`);
  });
  after(stopAll);

  it('answers a preflight from an allowed origin itself, without a token, and never forwards it', async () => {
    const r = await preflight(`${gw.url}/api/orders`, APP);
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], APP);
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['access-control-allow-methods'], 'GET, POST, PUT');
    assert.equal(r.headers['access-control-allow-headers'], 'authorization, content-type');
    assert.equal(r.headers['access-control-max-age'], '600');
    assert.ok(varies(r.headers['vary']).includes('origin'));
    assert.ok(r.headers['x-request-id']);
    assert.equal(r.text, '');
    const seen = (await send(`${app.url}/control/seen`)).json<{ method: string }[]>();
    assert.equal(seen.filter((s) => s.method === 'OPTIONS').length, 0);
  });

  it('refuses a preflight from another origin with 403 and no CORS headers', async () => {
    const r = await preflight(`${gw.url}/api/orders`, EVIL);
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-sekisho-reason'], 'forbidden');
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
    assert.ok(varies(r.headers['vary']).includes('origin'));
  });

  it('adds CORS headers to an allowed origin\'s actual request, errors included', async () => {
    const ok = await send(`${gw.url}/api/orders`, { headers: { origin: APP, authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], APP);
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    assert.equal(ok.headers['access-control-expose-headers'], 'x-request-id');
    assert.ok(varies(ok.headers['vary']).includes('origin'));

    const noToken = await send(`${gw.url}/api/orders`, { headers: { origin: APP } });
    assert.equal(noToken.status, 401);
    assert.equal(noToken.headers['access-control-allow-origin'], APP, 'the browser may read why it was refused');
  });

  it('lets a disallowed origin\'s request proceed without CORS headers', async () => {
    const r = await send(`${gw.url}/api/orders`, { headers: { origin: EVIL, authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
    assert.ok(varies(r.headers['vary']).includes('origin'));
  });

  it('says Vary: Origin without an Origin too', async () => {
    const r = await send(`${gw.url}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.ok(varies(r.headers['vary']).includes('origin'));
  });

  it('never pairs "*" with credentials', async () => {
    const r = await preflight(`${wildcard.url}/api/orders`, EVIL, 'GET');
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
    const actual = await send(`${wildcard.url}/api/orders`, { headers: { origin: EVIL, authorization: `Bearer ${token}` } });
    assert.equal(actual.headers['access-control-allow-origin'], '*');
    assert.equal(actual.headers['access-control-allow-credentials'], undefined);
  });

  it('treats OPTIONS without Access-Control-Request-Method as an ordinary request', async () => {
    const r = await send(`${gw.url}/api/orders`, { method: 'OPTIONS', headers: { origin: APP } });
    assert.equal(r.status, 401, 'not a preflight: it needs a token like any request');
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, send, type Reply } from '../helpers/http.js';
import { claimsFor, JwksServer, sign, signingKey, unsignedToken, type SigningKey } from '../helpers/jwt.js';
import { CLI, startGateway, startProcess, startUpstream, stopAll, tempDir, type GatewayProc, type Upstream } from '../helpers/processes.js';

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'shop-api';
const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const secretKey = { alg: 'HS256', secret: new TextEncoder().encode(SECRET) };

function gatewayYaml(jwksUri: string, upstream: string, pemFile: string): string {
  return `
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  auth:
    jwt:
      issuer: ${ISSUER}
      audience: [${AUDIENCE}]
      jwksUri: ${jwksUri}
      keys: [{ file: ${pemFile} }]
      secret: "${SECRET}"
      algorithms: [RS256, ES256, EdDSA, HS256]
      clockSkew: 5s
      forwardClaims: { sub: x-user-id, scope: x-scope }
  routes:
    - { name: api, match: { pathPrefix: /api }, service: app }
    - { name: public, match: { pathPrefix: /public }, service: app, auth: none }
services:
  app: { endpoints: [${upstream}] }
`;
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function assertUnauthorized(r: Reply, what: string): void {
  assert.equal(r.status, 401, `${what}: ${r.text}`);
  assert.equal(r.headers['content-type'], 'application/problem+json', what);
  assert.equal(r.headers['x-sekisho-reason'], 'unauthorized', what);
  assert.match(String(r.headers['www-authenticate']), /^Bearer error="invalid_token", error_description="[^"\\]+"$/, what);
}

async function upstreamUrls(upstream: Upstream): Promise<string[]> {
  return (await send(`${upstream.url}/control/seen`)).json<{ url: string }[]>().map((s) => s.url);
}

describe('JWT auth at the gateway (real JWKS server, real gateway process)', () => {
  let app: Upstream;
  let jwks: JwksServer;
  let gw: GatewayProc;
  let rs: SigningKey;
  let es: SigningKey;
  let ed: SigningKey;
  let fileKey: SigningKey;

  before(async () => {
    [rs, es, ed, fileKey] = await Promise.all([
      signingKey('RS256', 'rs-1'), signingKey('ES256', 'es-1'), signingKey('EdDSA', 'ed-1'), signingKey('RS256', 'file-1'),
    ]);
    jwks = await new JwksServer().start();
    jwks.keys = [rs, es, ed];
    const pemFile = join(tempDir(), 'idp.pem');
    writeFileSync(pemFile, fileKey.publicPem);
    app = await startUpstream('app');
    gw = await startGateway(gatewayYaml(jwks.url, app.url, pemFile));
  });
  after(async () => {
    await stopAll();
    await jwks.stop();
  });

  it('answers each token of the table with its status; refused ones never reach the upstream', async () => {
    const valid = claimsFor({ iss: ISSUER, aud: AUDIENCE, sub: 'alice' });
    const now = Math.floor(Date.now() / 1000);
    const rsToken = await sign(valid, rs);
    const [header, payload, signature] = rsToken.split('.') as [string, string, string];
    const tamperedPayload = Buffer.from(JSON.stringify({ ...valid, sub: 'admin' })).toString('base64url');
    const cases: [string, Promise<string> | string, number][] = [
      ['valid HS256', sign(valid, secretKey), 200],
      ['valid RS256 (JWKS)', rsToken, 200],
      ['valid ES256 (JWKS)', sign(valid, es), 200],
      ['valid EdDSA (JWKS)', sign(valid, ed), 200],
      ['valid RS256 by the PEM key file, no kid', sign(valid, { ...fileKey, kid: undefined as unknown as string }), 200],
      ['expired within the clock skew', sign({ ...valid, exp: now - 2 }, rs), 200],
      ['alg none', unsignedToken(valid), 401],
      ['RS→HS key confusion (HS256 keyed with the RSA public key)', sign(valid, { alg: 'HS256', secret: new TextEncoder().encode(rs.publicPem) }), 401],
      ['HS256 with another secret', sign(valid, { alg: 'HS256', secret: new TextEncoder().encode('another-secret-another-secret-xx') }), 401],
      ['algorithm not on the allow-list (RS384)', signingKey('RS384', 'rs-1').then((k) => sign(valid, k)), 401],
      ['expired', sign({ ...valid, exp: now - 60 }, rs), 401],
      ['not yet valid', sign({ ...valid, nbf: now + 60 }, rs), 401],
      ['no exp', sign({ iss: ISSUER, aud: AUDIENCE, sub: 'alice' }, rs), 401],
      ['wrong iss', sign({ ...valid, iss: 'https://evil.test/' }, rs), 401],
      ['wrong aud', sign({ ...valid, aud: 'other-api' }, rs), 401],
      ['tampered payload', `${header}.${tamperedPayload}.${signature}`, 401],
      ['tampered signature', `${header}.${payload}.${signature.slice(0, -4)}AAAA`, 401],
      ['one segment', 'abcdef', 401],
      ['two segments', `${header}.${payload}`, 401],
      ['four segments', `${rsToken}.x`, 401],
      ['segments that are not base64url JSON', '%%%.###.$$$', 401],
      ['empty segments', '..', 401],
      ['oversized token', `${header}.${'A'.repeat(9000)}.${signature}`, 401],
    ];
    const expectedUrls: string[] = [];
    for (const [index, [what, token, status]] of cases.entries()) {
      const path = `/api/case-${index}`;
      const r = await send(`${gw.url}${path}`, { headers: bearer(await token) });
      if (status === 200) {
        assert.equal(r.status, 200, `${what}: ${r.text}`);
        expectedUrls.push(path);
      } else {
        assertUnauthorized(r, what);
      }
    }
    assert.deepEqual((await upstreamUrls(app)).filter((u) => u.startsWith('/api/case-')), expectedUrls);
  });

  it('refuses a missing token or another scheme with 401 and a Bearer challenge', async () => {
    assertUnauthorized(await send(`${gw.url}/api/x`), 'missing');
    assertUnauthorized(await send(`${gw.url}/api/x`, { headers: { authorization: 'Basic YWxpY2U6cHc=' } }), 'basic');
    assertUnauthorized(await send(`${gw.url}/api/x`, { headers: { authorization: 'Bearer ' } }), 'empty bearer');
  });

  it('lets auth: none routes through without a token', async () => {
    assert.equal((await send(`${gw.url}/public/x`)).status, 200);
  });

  it('forwards configured claims and always drops client-sent copies', async () => {
    const token = await sign(claimsFor({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', scope: 'read write' }), rs);
    const forged = { 'x-user-id': 'mallory', 'x-scope': 'admin' };
    const r = await send(`${gw.url}/api/claims`, { headers: { ...bearer(token), ...forged } });
    assert.equal(r.status, 200);
    const headers = r.json<{ headers: Record<string, string> }>().headers;
    assert.equal(headers['x-user-id'], 'alice');
    assert.equal(headers['x-scope'], 'read write');
    assert.equal(headers['authorization'], `Bearer ${token}`);
    const open = (await send(`${gw.url}/public/claims`, { headers: forged })).json<{ headers: Record<string, string> }>().headers;
    assert.equal(open['x-user-id'], undefined);
    assert.equal(open['x-scope'], undefined);
  });

  it('accepts a key rotated in at the identity provider within seconds, refetching at most once per 5 s', async () => {
    const rotated = await signingKey('RS256', 'rs-2');
    const token = await sign(claimsFor({ iss: ISSUER, aud: AUDIENCE, sub: 'bob' }), rotated);
    assertUnauthorized(await send(`${gw.url}/api/rotated`, { headers: bearer(token) }), 'kid not published yet');

    const fetchesBefore = jwks.fetches;
    const made = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      const fake = await sign(claimsFor({ iss: ISSUER, aud: AUDIENCE }), { ...rotated, kid: `made-up-${i}` });
      return send(`${gw.url}/api/made-up`, { headers: bearer(fake) });
    }));
    for (const r of made) assertUnauthorized(r, 'made-up kid');
    assert.ok(jwks.fetches - fetchesBefore <= 1, `10 unknown kids at once cost ${jwks.fetches - fetchesBefore} JWKS fetches`);

    jwks.keys = [...jwks.keys, rotated];
    const started = Date.now();
    await eventually(async () => ((await send(`${gw.url}/api/rotated`, { headers: bearer(token) })).status === 200 ? true : undefined), 12_000, 'rotated key accepted');
    assert.ok(Date.now() - started < 11_000);
  });

  it('keeps the last good key set while the JWKS endpoint is down', async () => {
    jwks.failing = true;
    try {
      // Unknown kids make the gateway refetch (at most once per 5 s); wait until one refetch failed.
      const fetchesBefore = jwks.fetches;
      const unknown = await sign(claimsFor({ iss: ISSUER, aud: AUDIENCE }), { ...rs, kid: 'not-there' });
      await eventually(async () => {
        await send(`${gw.url}/api/outage`, { headers: bearer(unknown) });
        return jwks.fetches > fetchesBefore ? true : undefined;
      }, 10_000, 'a failed JWKS refetch');
      const token = await sign(claimsFor({ iss: ISSUER, aud: AUDIENCE, sub: 'carol', jti: 'fresh' }), es);
      assert.equal((await send(`${gw.url}/api/outage`, { headers: bearer(token) })).status, 200);
    } finally {
      jwks.failing = false;
    }
  });

  it('counts refusals by reason in sekisho_auth_rejected_total', async () => {
    const metrics = (await send(`${gw.adminUrl}/metrics`)).text;
    for (const reason of ['expired', 'signature', 'algorithm', 'issuer', 'audience', 'malformed', 'missing', 'not_yet_valid', 'too_large', 'claims']) {
      assert.match(metrics, new RegExp(`sekisho_auth_rejected_total\\{role="gateway",reason="${reason}"\\} [1-9]`), reason);
    }
  });
});

describe('JWT auth when the JWKS endpoint cannot be reached', () => {
  let jwks: JwksServer;
  let gw: GatewayProc;
  let rs: SigningKey;

  before(async () => {
    rs = await signingKey('RS256', 'rs-1');
    jwks = await new JwksServer().start();
    jwks.keys = [rs];
    jwks.failing = true;
    const app = await startUpstream('app');
    // An unrelated RSA key file: it fits RS256 tokens but verifies none of them, and that must
    // not turn the outage into a 401.
    const pemFile = join(tempDir(), 'unrelated.pem');
    writeFileSync(pemFile, (await signingKey('RS256', 'x')).publicPem);
    gw = await startGateway(gatewayYaml(jwks.url, app.url, pemFile));
  });
  after(async () => {
    await stopAll();
    await jwks.stop();
  });

  it('answers 503 auth_unavailable, never 401, until the keys can be fetched', async () => {
    const token = await sign(claimsFor({ iss: ISSUER, aud: AUDIENCE, sub: 'dave' }), rs);
    await eventually(async () => (jwks.fetches > 0 ? true : undefined), 5_000, 'first JWKS fetch');
    const r = await send(`${gw.url}/api/down`, { headers: bearer(token) });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.headers['x-sekisho-reason'], 'auth_unavailable');
    assert.equal(r.headers['www-authenticate'], undefined);
    assert.equal(r.json().code, 'auth_unavailable');
    const down = await eventually(async () => gw.proc.logs().find((l) => String(l['msg']).startsWith('JWKS fetch failed')), 5_000, 'outage logged');
    assert.equal(down['level'], 'warn');
    assert.equal(down['jwksUri'], jwks.url);
    assert.equal(gw.proc.logs().filter((l) => String(l['msg']).startsWith('JWKS fetch failed')).length, 1, 'logged once, not per retry');

    jwks.failing = false;
    await eventually(async () => {
      const again = await send(`${gw.url}/api/down`, { headers: bearer(token) });
      assert.notEqual(again.status, 401);
      return again.status === 200 ? true : undefined;
    }, 15_000, 'keys fetched after the outage');
    await eventually(async () => gw.proc.logs().find((l) => l['msg'] === 'JWKS fetched again'), 5_000, 'recovery logged');
  });
});

describe('JWT key files that cannot be used', () => {
  after(stopAll);

  it('stop a starting gateway with the file named', async () => {
    const dir = tempDir();
    const configFile = join(dir, 'sekisho.yaml');
    writeFileSync(configFile, gatewayYaml('http://127.0.0.1:9/jwks', 'http://127.0.0.1:9', join(dir, 'absent.pem')));
    const proc = startProcess([CLI, 'gateway', '-c', configFile]);
    assert.equal(await proc.exited, 1);
    assert.match(proc.stderr, /jwt key file .*absent\.pem/);
  });

  it('make a reloaded gateway fail closed (503) on routes needing a token, and keep serving the others', async () => {
    const app = await startUpstream('app');
    const dir = tempDir();
    const pemFile = join(dir, 'idp.pem');
    const key = await signingKey('RS256', 'k');
    writeFileSync(pemFile, key.publicPem);
    const jwks = await new JwksServer().start();
    try {
      const gw = await startGateway(gatewayYaml(jwks.url, app.url, pemFile));
      const token = await sign(claimsFor({ iss: ISSUER, aud: AUDIENCE, sub: 'x' }), { ...key, kid: undefined as unknown as string });
      assert.equal((await send(`${gw.url}/api/x`, { headers: bearer(token) })).status, 200);

      rmSync(pemFile);
      writeFileSync(gw.configFile, gatewayYaml(jwks.url, app.url, pemFile) + '\n# touched\n');
      await gw.proc.waitForLine((l) => l.includes('"config reloaded"'));
      const refused = await send(`${gw.url}/api/y`, { headers: bearer(token) });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers['x-sekisho-reason'], 'auth_unavailable');
      assert.match(String(refused.json().detail), /idp\.pem/);
      assert.equal((await send(`${gw.url}/public/x`)).status, 200);
    } finally {
      await jwks.stop();
    }
  });
});

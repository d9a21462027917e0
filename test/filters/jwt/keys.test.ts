import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyFits, readKeyFile } from '../../../src/filters/jwt/keys.js';
import { signingKey } from '../../helpers/jwt.js';
import { tempDir } from '../../helpers/processes.js';

describe('JWT key files', () => {
  const dir = tempDir();

  it('reads a PEM public key, a single JWK and a JWK Set', async () => {
    const [rs, es, ed] = await Promise.all([signingKey('RS256', 'rs'), signingKey('ES256', 'es'), signingKey('EdDSA', 'ed')]);
    writeFileSync(join(dir, 'rs.pem'), rs.publicPem);
    writeFileSync(join(dir, 'es.jwk.json'), JSON.stringify(es.publicJwk));
    writeFileSync(join(dir, 'set.json'), JSON.stringify({ keys: [rs.publicJwk, ed.publicJwk, { kty: 'oct', k: 'c2VjcmV0' }] }));

    const [pem] = readKeyFile(join(dir, 'rs.pem'));
    assert.equal(pem!.kid, undefined);
    assert.ok(keyFits(pem!.key, 'RS256'));

    const [jwk] = readKeyFile(join(dir, 'es.jwk.json'));
    assert.equal(jwk!.kid, 'es');
    assert.ok(keyFits(jwk!.key, 'ES256'));
    assert.ok(!keyFits(jwk!.key, 'ES384'), 'a P-256 key does not verify ES384');

    const set = readKeyFile(join(dir, 'set.json'));
    assert.deepEqual(set.map((k) => k.kid), ['rs', 'ed'], 'symmetric keys in a JWKS are never used');
    assert.ok(keyFits(set[1]!.key, 'EdDSA'));
    assert.ok(!keyFits(set[0]!.key, 'HS256'), 'no public key ever verifies an HMAC token');
  });

  it('names the file when it is missing or holds no key', () => {
    assert.throws(() => readKeyFile(join(dir, 'missing.pem')), /jwt key file .*missing\.pem: ENOENT/);
    writeFileSync(join(dir, 'junk.pem'), 'not a key');
    assert.throws(() => readKeyFile(join(dir, 'junk.pem')), /jwt key file .*junk\.pem: /);
    writeFileSync(join(dir, 'empty.json'), JSON.stringify({ keys: [] }));
    assert.throws(() => readKeyFile(join(dir, 'empty.json')), /no usable public key/);
  });
});

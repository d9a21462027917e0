import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizePath } from '../../src/core/path.js';
import { Problem } from '../../src/core/problem.js';

describe('normalizePath', () => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b/'],
    ['//a///b', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/api/billing/../admin', '/api/admin'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/%61%62%63', '/abc'],
    ['/%2e%2e/admin', '/admin'],
    ['/api/%2E%2E/admin', '/admin'],
    ['/a%7e%5F%2D', '/a~_-'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/a%20b', '/a%20b'],
    ['/.', '/'],
    ['/..', '/'],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => assert.equal(normalizePath(input), expected));
  }

  const rejected = ['/a%2Fb', '/a%2fb', '/a%5Cb', '/a%00b', '/a\\b', '/a%zz', '/a%4', 'relative'];
  for (const input of rejected) {
    it(`rejects ${JSON.stringify(input)} with 400`, () => {
      const result = normalizePath(input);
      assert.ok(result instanceof Problem, `accepted as ${String(result)}`);
      assert.equal((result as Problem).code, 'bad_request');
      assert.equal((result as Problem).status, 400);
    });
  }

  it('returns the same string when nothing needs normalizing', () => {
    const path = '/api/billing/charge';
    assert.equal(normalizePath(path), path);
  });
});

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { RouteConfig } from '../../../src/config/types.js';
import { rewritePath } from '../../../src/core/router/index.js';
import { route } from './helpers.js';

type RouteFields = Partial<RouteConfig>;

/** Each case: a route's fields and `[request path, forwarded path]` pairs. */
const CASES: readonly (readonly [string, RouteFields, readonly (readonly [string, string])[]])[] = [
  [
    'stripPrefix removes whole segments',
    { match: { pathPrefix: '/api/billing' }, stripPrefix: '/api' },
    [
      ['/api/billing/x', '/billing/x'],
      ['/api/billing', '/billing'],
      ['/api/billing/', '/billing/'],
    ],
  ],
  [
    'stripPrefix of the whole path leaves `/`',
    { match: { pathPrefix: '/api' }, stripPrefix: '/api' },
    [
      ['/api', '/'],
      ['/api/', '/'],
      ['/api/x', '/x'],
    ],
  ],
  [
    'stripPrefix leaves paths it does not cover on a segment boundary alone',
    { stripPrefix: '/api' },
    [
      ['/apix/y', '/apix/y'],
      ['/other', '/other'],
      ['/', '/'],
    ],
  ],
  [
    'stripPrefix ignores trailing slashes',
    { stripPrefix: '/api/' },
    [
      ['/api/x', '/x'],
      ['/api', '/'],
    ],
  ],
  ['stripPrefix `/` strips nothing', { stripPrefix: '/' }, [['/api/x', '/api/x']]],
  [
    'rewrite.prefix replaces the matched pathPrefix',
    { match: { pathPrefix: '/api/v1' }, rewrite: { prefix: '/v2' } },
    [
      ['/api/v1/users', '/v2/users'],
      ['/api/v1', '/v2'],
      ['/api/v1/', '/v2/'],
    ],
  ],
  [
    'rewrite.prefix merges slashes',
    { match: { pathPrefix: '/old/' }, rewrite: { prefix: '/new/' } },
    [
      ['/old/x', '/new/x'],
      ['/old', '/new/'],
    ],
  ],
  [
    'rewrite.prefix `/` drops the matched prefix',
    { match: { pathPrefix: '/old' }, rewrite: { prefix: '/' } },
    [
      ['/old/x', '/x'],
      ['/old', '/'],
    ],
  ],
  [
    'rewrite.prefix under pathPrefix `/` is prepended',
    { match: { pathPrefix: '/' }, rewrite: { prefix: '/v1' } },
    [
      ['/x', '/v1/x'],
      ['/', '/v1/'],
    ],
  ],
  [
    'rewrite.prefix without a leading slash still gives one',
    { match: { pathPrefix: '/old' }, rewrite: { prefix: 'new' } },
    [['/old/x', '/new/x']],
  ],
  [
    'rewrite.prefix applies to what stripPrefix left of the matched prefix',
    { match: { pathPrefix: '/api/upload' }, stripPrefix: '/api', rewrite: { prefix: '/files' } },
    [
      ['/api/upload/a.png', '/files/a.png'],
      ['/api/upload', '/files'],
    ],
  ],
  [
    'rewrite.prefix after stripPrefix took the whole matched prefix is prepended',
    { match: { pathPrefix: '/api' }, stripPrefix: '/api', rewrite: { prefix: '/v1' } },
    [
      ['/api/x', '/v1/x'],
      ['/api', '/v1/'],
    ],
  ],
  [
    'rewrite.prefix replaces the whole path of an exact route',
    { match: { path: '/login' }, rewrite: { prefix: '/auth/session' } },
    [['/login', '/auth/session']],
  ],
  [
    'rewrite.prefix is prepended for regex routes',
    { match: { pathRegex: '/[a-z]+' }, rewrite: { prefix: '/p' } },
    [['/x', '/p/x']],
  ],
  [
    'rewrite.regex replaces the first match, with groups',
    { match: { pathPrefix: '/users' }, rewrite: { regex: '^/users/([0-9]+)', replacement: '/u/$1' } },
    [
      ['/users/42', '/u/42'],
      ['/users/42/orders', '/u/42/orders'],
      ['/users/me', '/users/me'],
    ],
  ],
  ['rewrite.regex replaces only the first match', { rewrite: { regex: 'a', replacement: 'b' } }, [['/a/a', '/b/a']]],
  [
    'rewrite.regex never leaves a path without a leading slash',
    { rewrite: { regex: '^/api', replacement: '' } },
    [
      ['/api', '/'],
      ['/apix', '/x'],
    ],
  ],
  [
    'rewrite.regex works on the stripped path',
    { match: { pathPrefix: '/api' }, stripPrefix: '/api', rewrite: { regex: '^/v([0-9])/', replacement: '/version-$1/' } },
    [['/api/v2/x', '/version-2/x']],
  ],
];

describe('rewritePath', () => {
  for (const [name, fields, pairs] of CASES) {
    it(name, () => {
      const config = route({ name: 'r', ...fields });
      for (const [path, expected] of pairs) assert.equal(rewritePath(config, path), expected, path);
    });
  }

  it('leaves the path of routes without stripPrefix or rewrite untouched', () => {
    const config = route({ name: 'plain', match: { pathPrefix: '/api' } });
    for (const path of ['/api/x', '/api/', '/other//odd/']) assert.equal(rewritePath(config, path), path);
  });
});

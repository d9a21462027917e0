import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { RouteConfig } from '../../../src/config/types.js';
import type { RouteInput, RouterFactory } from '../../../src/core/router/index.js';
import { prng, randomInput, randomRoutes } from './generate.js';
import { req, route, routables, show } from './helpers.js';
import { oracleMatch } from './oracle.js';

/** A route of a case; `index` defaults to its position in the case's list. */
type RouteDef = Partial<RouteConfig> & { readonly name: string };

interface Case {
  readonly name: string;
  readonly routes: readonly RouteDef[];
  /** Each request and the name of the route it must get, or `undefined` for no match. */
  readonly expect: readonly (readonly [RouteInput, string | undefined])[];
}

const CASES: readonly Case[] = [
  {
    name: 'exact path > prefix > regex > no path, whatever the file order',
    routes: [
      { name: 'any' },
      { name: 'regex', match: { pathRegex: '/(api|v1)/.*' } },
      { name: 'prefix', match: { pathPrefix: '/api' } },
      { name: 'exact', match: { path: '/api/users' } },
    ],
    expect: [
      [req('/api/users'), 'exact'],
      [req('/api/users/1'), 'prefix'],
      [req('/api'), 'prefix'],
      [req('/v1/x'), 'regex'],
      [req('/v2/x'), 'any'],
    ],
  },
  {
    name: 'exact path is byte for byte',
    routes: [{ name: 'exact', match: { path: '/api/users' } }],
    expect: [
      [req('/api/users'), 'exact'],
      [req('/api/users/'), undefined],
      [req('/api/users/1'), undefined],
      [req('/API/users'), undefined],
    ],
  },
  {
    name: 'longest prefix wins',
    routes: [
      { name: 'root', match: { pathPrefix: '/' } },
      { name: 'api', match: { pathPrefix: '/api' } },
      { name: 'v1', match: { pathPrefix: '/api/v1' } },
      { name: 'users', match: { pathPrefix: '/api/v1/users' } },
    ],
    expect: [
      [req('/api/v1/users/7'), 'users'],
      [req('/api/v1/users'), 'users'],
      [req('/api/v1/x'), 'v1'],
      [req('/api/v2'), 'api'],
      [req('/apix'), 'root'],
      [req('/'), 'root'],
    ],
  },
  {
    name: 'prefixes match on segment boundaries',
    routes: [{ name: 'upload', match: { pathPrefix: '/api/upload' } }],
    expect: [
      [req('/api/upload'), 'upload'],
      [req('/api/upload/'), 'upload'],
      [req('/api/upload/x/y'), 'upload'],
      [req('/api/uploads'), undefined],
      [req('/api/uploa'), undefined],
      [req('/api'), undefined],
      [req('/'), undefined],
    ],
  },
  {
    name: 'a trailing slash on a prefix is ignored',
    routes: [
      { name: 'slash', match: { pathPrefix: '/api/' } },
      { name: 'bare', match: { pathPrefix: '/api' } },
      { name: 'v1', match: { pathPrefix: '/api/v1//' } },
    ],
    expect: [
      [req('/api'), 'slash'],
      [req('/api/'), 'slash'],
      [req('/api/x'), 'slash'],
      [req('/apix'), undefined],
      [req('/api/v1'), 'v1'],
      [req('/api/v1/'), 'v1'],
    ],
  },
  {
    name: 'prefix `/` matches everything and outranks regex and path-less routes',
    routes: [
      { name: 'any' },
      { name: 'regex', match: { pathRegex: '.*' } },
      { name: 'root', match: { pathPrefix: '/' } },
    ],
    expect: [
      [req('/'), 'root'],
      [req('/a/b/c'), 'root'],
      [req('//'), 'root'],
    ],
  },
  {
    name: 'regexes match the whole path',
    routes: [
      { name: 'user', match: { pathRegex: '/users/[0-9]+' } },
      { name: 'ab', match: { pathRegex: '/a|/b' } },
    ],
    expect: [
      [req('/users/42'), 'user'],
      [req('/users/42/x'), undefined],
      [req('/x/users/42'), undefined],
      [req('/a'), 'ab'],
      [req('/b'), 'ab'],
      [req('/ab'), undefined],
      [req('/b/'), undefined],
    ],
  },
  {
    name: 'host: exact > longer wildcard > shorter wildcard > none',
    routes: [
      { name: 'none', match: { pathPrefix: '/' } },
      { name: 'wild', match: { hosts: ['*.example.com'] } },
      { name: 'wild-api', match: { hosts: ['*.api.example.com'] } },
      { name: 'exact-api', match: { hosts: ['api.example.com'] } },
      { name: 'exact-x', match: { hosts: ['x.api.example.com'] } },
    ],
    expect: [
      [req('/', { host: 'api.example.com' }), 'exact-api'],
      [req('/', { host: 'x.api.example.com' }), 'exact-x'],
      [req('/', { host: 'y.api.example.com' }), 'wild-api'],
      [req('/', { host: 'z.y.api.example.com' }), 'wild-api'],
      [req('/', { host: 'shop.example.com' }), 'wild'],
      [req('/', { host: 'example.com' }), 'none'],
      [req('/', { host: 'badexample.com' }), 'none'],
      [req('/', { host: 'other.org' }), 'none'],
    ],
  },
  {
    name: 'host outranks path',
    routes: [
      { name: 'exact-path', match: { path: '/x' } },
      { name: 'wild-host', match: { hosts: ['*.example.com'], pathRegex: '/.*' } },
      { name: 'exact-host', match: { hosts: ['api.example.com'] } },
    ],
    expect: [
      [req('/x', { host: 'api.example.com' }), 'exact-host'],
      [req('/x', { host: 'www.example.com' }), 'wild-host'],
      [req('/x', { host: 'example.com' }), 'exact-path'],
    ],
  },
  {
    name: 'wildcards need at least one label and match several',
    routes: [{ name: 'wild', match: { hosts: ['*.example.com'] } }],
    expect: [
      [req('/', { host: 'a.example.com' }), 'wild'],
      [req('/', { host: 'a.b.example.com' }), 'wild'],
      [req('/', { host: 'example.com' }), undefined],
      [req('/', { host: 'xexample.com' }), undefined],
      [req('/', { host: 'example.com.evil' }), undefined],
    ],
  },
  {
    name: 'a route with several hosts ranks by the host that matched',
    routes: [
      { name: 'multi', match: { hosts: ['shop.example.com', '*.example.com'] } },
      { name: 'exact-www', match: { hosts: ['www.example.com'] } },
      { name: 'wild-shop', match: { hosts: ['*.shop.example.com'] } },
    ],
    expect: [
      [req('/', { host: 'shop.example.com' }), 'multi'],
      [req('/', { host: 'www.example.com' }), 'exact-www'],
      [req('/', { host: 'a.shop.example.com' }), 'wild-shop'],
      [req('/', { host: 'b.example.com' }), 'multi'],
    ],
  },
  {
    name: 'methods are compared case-sensitively; an empty list is no condition',
    routes: [
      { name: 'post', match: { pathPrefix: '/api', methods: ['POST'] } },
      { name: 'read', match: { pathPrefix: '/api', methods: ['GET', 'HEAD'] } },
      { name: 'empty', match: { pathPrefix: '/api', methods: [] } },
    ],
    expect: [
      [req('/api', { method: 'POST' }), 'post'],
      [req('/api', { method: 'GET' }), 'read'],
      [req('/api', { method: 'HEAD' }), 'read'],
      [req('/api', { method: 'get' }), 'empty'],
      [req('/api', { method: 'DELETE' }), 'empty'],
    ],
  },
  {
    name: 'header exact, regex, present and absent',
    routes: [
      { name: 'canary', match: { headers: { 'x-canary': { exact: '1' } } } },
      { name: 'version', match: { headers: { 'x-version': { regex: 'v[0-9]+' } } } },
      { name: 'debug', match: { headers: { 'x-debug': { present: true } } } },
      { name: 'anonymous', match: { headers: { authorization: { present: false } } } },
      { name: 'fallback' },
    ],
    expect: [
      [req('/', { headers: { 'x-canary': '1', authorization: 't' } }), 'canary'],
      [req('/', { headers: { 'x-canary': '10', authorization: 't' } }), 'fallback'],
      [req('/', { headers: { 'x-version': 'v12', authorization: 't' } }), 'version'],
      [req('/', { headers: { 'x-version': 'v1x', authorization: 't' } }), 'fallback'],
      [req('/', { headers: { 'x-version': 'V1', authorization: 't' } }), 'fallback'],
      [req('/', { headers: { 'x-debug': '', authorization: 't' } }), 'debug'],
      [req('/', { headers: {} }), 'anonymous'],
      [req('/', { headers: { authorization: '' } }), 'fallback'],
    ],
  },
  {
    name: 'multi-value headers match when any value does',
    routes: [
      { name: 'exact', match: { headers: { 'x-tag': { exact: 'b' } } } },
      { name: 'regex', match: { headers: { 'x-id': { regex: '[0-9]+' } } } },
      { name: 'absent', match: { headers: { 'x-tag': { present: false }, 'x-id': { present: false } } } },
    ],
    expect: [
      [req('/', { headers: { 'x-tag': ['a', 'b'] } }), 'exact'],
      [req('/', { headers: { 'x-tag': ['a', 'c'] } }), undefined],
      [req('/', { headers: { 'x-id': ['x', '7'] } }), 'regex'],
      [req('/', { headers: { 'x-tag': 'a, b' } }), undefined],
      [req('/', { headers: {} }), 'absent'],
    ],
  },
  {
    name: 'query exact, regex and present, decoded',
    routes: [
      { name: 'search', match: { query: { q: { exact: 'a b' } } } },
      { name: 'id', match: { query: { id: { regex: '[0-9]+' } } } },
      { name: 'debug', match: { query: { debug: { present: true } } } },
      { name: 'plain', match: { query: { tracking: { present: false } } } },
    ],
    expect: [
      [req('/?q=a+b'), 'search'],
      [req('/?q=a%20b'), 'search'],
      [req('/?%71=a+b'), 'search'],
      [req('/?q=a%2Bb&tracking=1'), undefined],
      [req('/?id=42&tracking'), 'id'],
      [req('/?id=42x&tracking'), undefined],
      [req('/?id=x&id=7&tracking'), 'id'],
      [req('/?debug&tracking'), 'debug'],
      [req('/?debug=&tracking'), 'debug'],
      [req('/?debugger=1'), 'plain'],
      [req('/'), 'plain'],
      [req('/?tracking'), undefined],
    ],
  },
  {
    name: 'a query parsed for one request never answers for the next',
    routes: [
      { name: 'a', match: { path: '/a', query: { x: { exact: '1' } } } },
      { name: 'b', match: { path: '/b', query: { x: { exact: '2' } } } },
    ],
    expect: [
      [req('/a?x=1'), 'a'],
      [req('/b?x=1'), undefined],
      [req('/b?x=2'), 'b'],
      [req('/a?x=2'), undefined],
    ],
  },
  {
    name: 'more conditions first, but only among routes that tie on host and path',
    routes: [
      { name: 'plain', match: { pathPrefix: '/api' } },
      { name: 'get', match: { pathPrefix: '/api', methods: ['GET'] } },
      { name: 'get-canary', match: { pathPrefix: '/api', methods: ['GET'], headers: { 'x-canary': { exact: '1' } } } },
      { name: 'exact', match: { path: '/api/x' } },
    ],
    expect: [
      [req('/api/y', { headers: { 'x-canary': '1' } }), 'get-canary'],
      [req('/api/y'), 'get'],
      [req('/api/y', { method: 'POST' }), 'plain'],
      [req('/api/x', { headers: { 'x-canary': '1' } }), 'exact'],
    ],
  },
  {
    name: 'ties are broken by file order (config.index), not list order',
    routes: [
      { name: 'second', index: 1, match: { pathPrefix: '/api' } },
      { name: 'first', index: 0, match: { pathPrefix: '/api/' } },
      { name: 'h2', index: 3, match: { hosts: ['a.test'], headers: { 'x-b': { present: true } } } },
      { name: 'h1', index: 2, match: { hosts: ['a.test'], headers: { 'x-a': { present: true } } } },
    ],
    expect: [
      [req('/api/x'), 'first'],
      [req('/', { host: 'a.test', headers: { 'x-a': '1', 'x-b': '1' } }), 'h1'],
      [req('/', { host: 'a.test', headers: { 'x-b': '1' } }), 'h2'],
    ],
  },
  {
    name: 'no match gives undefined',
    routes: [{ name: 'only', match: { hosts: ['api.example.com'], pathPrefix: '/api', methods: ['GET'] } }],
    expect: [
      [req('/api', { host: 'api.example.com', method: 'GET' }), 'only'],
      [req('/api', { host: 'example.com' }), undefined],
      [req('/other', { host: 'api.example.com' }), undefined],
      [req('/api', { host: 'api.example.com', method: 'POST' }), undefined],
    ],
  },
  {
    name: 'no routes at all',
    routes: [],
    expect: [[req('/'), undefined]],
  },
];

/**
 * The behaviour every `Router` must have (types.ts): the cases above, then a large generated
 * route set checked against a brute-force oracle written from the documented rules.
 */
export function runRouterConformance(name: string, factory: RouterFactory): void {
  describe(`${name} conformance`, () => {
    for (const testCase of CASES) {
      it(testCase.name, () => {
        const configs = testCase.routes.map((def, index) => route({ index, ...def }));
        const router = factory(routables(configs));
        for (const [input, expected] of testCase.expect) {
          assert.equal(router.match(input)?.config.name, expected, show(input));
        }
      });
    }

    it('agrees with the oracle on 500 generated routes', () => {
      const random = prng(500);
      const configs = randomRoutes(random, 500);
      const router = factory(routables(configs));
      let matched = 0;
      for (let i = 0; i < 2000; i++) {
        const input = randomInput(random);
        const expected = oracleMatch(configs, input)?.name;
        assert.equal(router.match(input)?.config.name, expected, show(input));
        if (expected !== undefined) matched++;
      }
      // Guards the generator: a sample that never matches would prove nothing.
      assert.ok(matched > 1000, `only ${matched} of 2000 generated requests matched a route`);
    });
  });
}

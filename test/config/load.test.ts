import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  formatConfigError,
  INLINE,
  loadConfigFile,
  loadConfigString,
  type ConfigError,
  type LoadResult,
} from '../../src/config/load.js';
import type { SekishoConfig } from '../../src/config/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const specExample = join(here, 'fixtures', 'spec-example.yaml');

function load(yaml: string, env: NodeJS.ProcessEnv = {}, file?: string): SekishoConfig {
  const result = loadConfigString(yaml, file, env);
  if (!result.ok) assert.fail(`unexpected errors:\n${result.errors.map(formatConfigError).join('\n')}`);
  return result.config;
}

function errorsOf(result: LoadResult): ConfigError[] {
  assert.equal(result.ok, false, 'expected errors');
  return result.ok ? [] : [...result.errors];
}

function errorLines(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  return errorsOf(loadConfigString(yaml, 'c.yaml', env)).map(formatConfigError);
}

const MINIMAL = `
gateway:
  routes:
    - name: api
      match: { pathPrefix: /api }
      service: api
services:
  api:
    endpoints: [http://127.0.0.1:9000]
`;

describe('defaults', () => {
  const config = load(MINIMAL);

  test('mesh, gateway and listener limits', () => {
    assert.equal(config.file, INLINE);
    assert.deepEqual(config.mesh, { name: 'sekisho', defaultAuthorization: 'authenticated' });
    assert.equal(config.controlPlane, undefined);
    const gateway = config.gateway!;
    assert.equal(gateway.name, 'gateway');
    assert.deepEqual(gateway.listen, { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(gateway.admin, { host: '127.0.0.1', port: 15090 });
    assert.deepEqual(gateway.trustedProxies, []);
    assert.deepEqual(gateway.limits, {
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 0,
      keepAliveTimeoutMs: 65_000,
      maxHeaderSize: 16_384,
      maxHeaderCount: 100,
      drainTimeoutMs: 30_000,
    });
  });

  test('unset optional settings are absent, not undefined', () => {
    const gateway = config.gateway!;
    for (const key of ['tls', 'cors', 'auth', 'rateLimit', 'maxBodySize', 'adminToken']) {
      assert.equal(key in gateway, false, key);
    }
    assert.equal('retries' in config.services.api!, false);
    assert.equal('healthCheck' in config.services.api!, false);
  });

  test('route: index, empty match, auth none without gateway auth', () => {
    assert.deepEqual(config.gateway!.routes, [
      { name: 'api', index: 0, match: { pathPrefix: '/api' }, service: 'api', auth: 'none' },
    ]);
  });

  test('service', () => {
    assert.deepEqual(config.services.api, {
      name: 'api',
      protocol: 'http',
      endpoints: [{ url: 'http://127.0.0.1:9000', host: '127.0.0.1', port: 9000, protocol: 'http:', weight: 1, version: 'v1' }],
      timeoutMs: 15_000,
      connectTimeoutMs: 2_000,
      idleTimeoutMs: 60_000,
      circuitBreaker: { maxRequests: 1024, maxPending: 1024 },
      // Not configured: gateway failures eject, 5xx answers do not.
      outlierDetection: {
        consecutive5xx: 0,
        consecutiveGatewayFailure: 3,
        ejectionTimeMs: 30_000,
        maxEjectionTimeMs: 300_000,
        maxEjectedPercent: 50,
      },
      loadBalancer: 'round-robin',
    });
  });

  test('sections given empty get their defaults', () => {
    const full = load(`
controlPlane: {}
gateway:
  rateLimit: { limit: 10/s }
  cors: { allowOrigins: ["*"] }
  auth: { jwt: { jwksUri: https://id.example.com/jwks } }
services:
  api:
    healthCheck: { path: /healthz }
    retries: {}
    outlierDetection: {}
`);
    assert.deepEqual(full.controlPlane, {
      listen: { host: '127.0.0.1', port: 15000 },
      xds: { host: '127.0.0.1', port: 15012 },
      store: 'memory',
      ca: { certTTLMs: 86_400_000 },
    });
    const gateway = full.gateway!;
    assert.deepEqual(gateway.rateLimit, { by: 'ip', limit: { count: 10, periodMs: 1_000 }, burst: 10, store: 'memory', failOpen: true });
    assert.deepEqual(gateway.cors, {
      allowOrigins: ['*'],
      allowMethods: ['GET', 'HEAD', 'POST'],
      allowHeaders: [],
      exposeHeaders: [],
      allowCredentials: false,
    });
    assert.deepEqual(gateway.auth?.jwt, {
      audience: [],
      jwksUri: 'https://id.example.com/jwks',
      keys: [],
      algorithms: ['RS256', 'ES256'],
      clockSkewMs: 30_000,
      forwardClaims: {},
    });
    const api = full.services.api!;
    assert.equal('endpoints' in api, false, 'a mesh service has no endpoints');
    assert.deepEqual(api.healthCheck, { path: '/healthz', intervalMs: 5_000, timeoutMs: 1_000, unhealthyAfter: 3, healthyAfter: 2 });
    assert.deepEqual(api.retries, {
      attempts: 3,
      on: ['connect-failure', 'refused-stream', 'reset', '502', '503', '504'],
      backoff: { baseMs: 25, maxMs: 250 },
      budget: 0.2,
      minRetriesPerSecond: 10,
    });
    assert.equal(api.outlierDetection.consecutive5xx, 5, 'configured: 5xx answers count');
  });

  test('a section or service left empty takes every default', () => {
    const config = load('mesh:\ncontrolPlane:\ngateway:\nservices:\n  upload:\n');
    assert.equal(config.controlPlane!.store, 'memory');
    assert.deepEqual(config.gateway!.routes, []);
    assert.equal(config.services.upload!.timeoutMs, 15_000);
  });

  test('a secret-only JWT config defaults to HS256', () => {
    const config = load('gateway: { auth: { jwt: { secret: s3cret } } }');
    assert.deepEqual(config.gateway!.auth!.jwt!.algorithms, ['HS256']);
  });
});

describe('normalization', () => {
  const config = load(`
gateway:
  auth:
    jwt:
      keys: [{ file: ./keys/pub.pem }]
      audience: shop-api
      forwardClaims: { sub: X-User-Id }
  tls: { cert: api.pem, key: /etc/ssl/api-key.pem }
  rateLimit: { by: header:X-Api-Key, limit: 600/min, burst: 50 }
  cors: { allowOrigins: [https://app.example.com], allowMethods: [get, Post], allowHeaders: [Authorization] }
  routes:
    - name: a
      match:
        host: API.Example.com
        methods: [get]
        headers: { X-Canary: "1", X-Debug: { present: true } }
        query: { Page: { regex: "[0-9]+" }, q: x }
      service: api
    - name: b
      match: { host: ["*.example.com", Other.org] }
      service: api
      auth: none
      rateLimit: { by: "header:X-Key", limit: 2/s }
services:
  api:
    endpoints:
      - http://10.0.0.1:9000
      - http://10.0.0.2:9000#v2
      - { url: "https://[fd00::1]", weight: 3, version: canary }
    sticky: { header: X-Session }
    traffic:
      - match: { headers: { X-Canary: "1" }, paths: [/beta/*] }
        to: { v2: 100 }
    authorization: { allow: [{ from: [web], methods: [post] }] }
    run:
      - { version: v1, command: node app.js, env: { DEBUG: 1, VERBOSE: true }, cwd: app }
`, {}, '/srv/shop/sekisho.yaml');
  const gateway = config.gateway!;
  const [a, b] = gateway.routes;

  test('the file is absolute and relative paths resolve against its folder', () => {
    assert.equal(config.file, '/srv/shop/sekisho.yaml');
    assert.deepEqual(gateway.tls, { cert: '/srv/shop/api.pem', key: '/etc/ssl/api-key.pem' });
    assert.deepEqual(gateway.auth!.jwt!.keys, [{ file: '/srv/shop/keys/pub.pem' }]);
    assert.equal(config.services.api!.run![0]!.cwd, '/srv/shop/app');
  });

  test('header names lower-case, methods upper-case, hosts lower-case lists', () => {
    assert.deepEqual(a!.match, {
      hosts: ['api.example.com'],
      methods: ['GET'],
      headers: { 'x-canary': { exact: '1' }, 'x-debug': { present: true } },
      query: { Page: { regex: '[0-9]+' }, q: { exact: 'x' } },
    });
    assert.deepEqual(b!.match.hosts, ['*.example.com', 'other.org']);
    assert.deepEqual(gateway.cors!.allowMethods, ['GET', 'POST']);
    assert.deepEqual(gateway.cors!.allowHeaders, ['authorization']);
    assert.deepEqual(gateway.auth!.jwt!.forwardClaims, { sub: 'x-user-id' });
    assert.equal(gateway.rateLimit!.by, 'header:x-api-key');
    assert.equal(b!.rateLimit!.by, 'header:x-key');
    assert.deepEqual(config.services.api!.sticky, { header: 'x-session' });
    assert.deepEqual(config.services.api!.traffic![0]!.match, { headers: { 'x-canary': { exact: '1' } }, paths: ['/beta/*'] });
    assert.deepEqual(config.services.api!.authorization!.allow, [{ from: ['web'], methods: ['POST'] }]);
  });

  test('route auth: required when gateway auth is configured, an explicit value wins', () => {
    assert.equal(a!.auth, 'required');
    assert.equal(b!.auth, 'none');
    assert.deepEqual([a!.index, b!.index], [0, 1]);
  });

  test('audience string becomes a list; burst as given', () => {
    assert.deepEqual(gateway.auth!.jwt!.audience, ['shop-api']);
    assert.equal(gateway.rateLimit!.burst, 50);
    assert.deepEqual(b!.rateLimit, { by: 'header:x-key', limit: { count: 2, periodMs: 1_000 } });
  });

  test('endpoints: weight, version from fragment or object', () => {
    assert.deepEqual(
      config.services.api!.endpoints!.map((e) => [e.url, e.host, e.port, e.weight, e.version]),
      [
        ['http://10.0.0.1:9000', '10.0.0.1', 9000, 1, 'v1'],
        ['http://10.0.0.2:9000', '10.0.0.2', 9000, 1, 'v2'],
        ['https://[fd00::1]:443', 'fd00::1', 443, 3, 'canary'],
      ],
    );
  });

  test('run env values become strings', () => {
    assert.deepEqual(config.services.api!.run, [
      { version: 'v1', command: 'node app.js', replicas: 1, env: { DEBUG: '1', VERBOSE: 'true' }, cwd: '/srv/shop/app' },
    ]);
  });

  test('a file: store resolves against the config folder', () => {
    const cp = load('controlPlane: { store: "file:./.sekisho" }', {}, '/srv/shop/sekisho.yaml').controlPlane!;
    assert.equal(cp.store, `file:${resolve('/srv/shop/.sekisho')}`);
  });
});

test('the whole config is deeply frozen', () => {
  const config = load(MINIMAL);
  const seen: unknown[] = [];
  const visit = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object' || seen.includes(value)) return;
    seen.push(value);
    assert.ok(Object.isFrozen(value), `${path} is not frozen`);
    for (const [key, child] of Object.entries(value)) visit(child, `${path}.${key}`);
  };
  visit(config, 'config');
  assert.throws(() => {
    (config.gateway!.routes as unknown as unknown[]).push({});
  }, TypeError);
});

describe('${VAR} interpolation', () => {
  test('replaces variables, applies defaults to unset or empty ones, keeps $${ literal', () => {
    const config = load(
      `
controlPlane:
  joinToken: \${TOKEN}
  adminToken: "\${MISSING:-fallback}-\${EMPTY:-dflt}"
  store: "file:$\${NOT_A_VAR}"
gateway:
  listen: \${HOST}:\${PORT}
`,
      { TOKEN: 't0k', EMPTY: '', HOST: '127.0.0.1', PORT: '9999' },
    );
    assert.equal(config.controlPlane!.joinToken, 't0k');
    assert.equal(config.controlPlane!.adminToken, 'fallback-dflt');
    assert.match(config.controlPlane!.store, /\/\$\{NOT_A_VAR\}$/);
    assert.deepEqual(config.gateway!.listen, { host: '127.0.0.1', port: 9999 });
  });

  test('an unset variable without default is an error at its value, and only that', () => {
    assert.deepEqual(errorLines('gateway:\n  listen: ${NOPE}:80\n  name: ${NAME:-edge}\n'), [
      'c.yaml:2:11 gateway.listen: environment variable NOPE is not set',
    ]);
  });

  test('run commands are left to the shell', () => {
    const config = load('services:\n  a:\n    run: [{ version: v1, command: "node app.js --port ${PORT}" }]\n');
    assert.equal(config.services.a!.run![0]!.command, 'node app.js --port ${PORT}');
  });
});

describe('errors', () => {
  test('each error at its position with its key path, sorted, all of them', () => {
    assert.deepEqual(
      errorLines(`gateway:
  listen: 0.0.0.0:8080
  routes:
    - name: api
      service: missing
      match: { pathPrefix: api, pathprefix: /api }
    - { name: api, service: api }
  wat: 1
services:
  api: { timeout: 3 }
`),
      [
        'c.yaml:5:16 gateway.routes[0].service: no service "missing" in services',
        'c.yaml:6:28 gateway.routes[0].match.pathPrefix: must be a path starting with "/"',
        'c.yaml:6:33 gateway.routes[0].match.pathprefix: unknown key "pathprefix" (did you mean "pathPrefix"?)',
        'c.yaml:7:15 gateway.routes[1].name: duplicate route name "api" (also gateway.routes[0])',
        'c.yaml:8:3 gateway.wat: unknown key "wat"',
        'c.yaml:10:19 services.api.timeout: must be a duration like 250ms, 3s, 10m or 24h',
      ],
    );
  });

  test('a missing key is reported at its parent', () => {
    assert.deepEqual(errorLines('gateway:\n  routes:\n    - match: { path: /x }\n      service: api\nservices: { api: {} }\n'), [
      'c.yaml:3:7 gateway.routes[0]: missing required key "name"',
    ]);
  });

  test('YAML syntax errors come with positions and stop there', () => {
    assert.deepEqual(errorLines('gateway:\n  listen: [1\nnope: 1\n'), [
      'c.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  test('a route may name an undeclared service when a control plane can provide it', () => {
    const yaml = 'gateway: { routes: [{ name: a, service: elsewhere }] }\n';
    assert.equal(loadConfigString(yaml).ok, false);
    assert.equal(loadConfigString(`controlPlane: {}\n${yaml}`).ok, true);
  });

  test('formatConfigError leaves out what an error does not have', () => {
    const error = { file: 'f.yaml', line: 3, col: 5, path: 'gateway.listen', message: 'bad' };
    assert.equal(formatConfigError(error), 'f.yaml:3:5 gateway.listen: bad');
    assert.equal(formatConfigError({ ...error, path: '' }), 'f.yaml:3:5: bad');
    assert.equal(formatConfigError({ ...error, line: 0, col: 0, path: '' }), 'f.yaml: bad');
  });
});

describe('loadConfigFile', () => {
  test('the SPEC §3 example loads with zero errors', async () => {
    const result = await loadConfigFile(specExample, { SEKISHO_JOIN_TOKEN: 'join-me' });
    if (!result.ok) assert.fail(result.errors.map(formatConfigError).join('\n'));
    const { config } = result;
    assert.equal(config.file, specExample);
    assert.equal(config.mesh.name, 'shop');
    assert.equal(config.controlPlane!.joinToken, 'join-me');
    assert.deepEqual(config.gateway!.tls, { cert: join(here, 'fixtures', 'api.pem'), key: join(here, 'fixtures', 'api-key.pem') });
    assert.equal(config.gateway!.maxBodySize, 1_048_576);
    assert.equal(config.gateway!.cors!.maxAgeMs, 600_000);
    assert.deepEqual(
      config.gateway!.routes.map((r) => [r.name, r.auth, r.stripPrefix]),
      [
        ['upload', 'required', '/api'],
        ['billing', 'required', '/api'],
        ['public-docs', 'none', undefined],
      ],
    );
    const billing = config.services.billing!;
    assert.deepEqual(billing.retries!.on, ['connect-failure', 'reset', '502', '503', '504']);
    assert.equal(billing.retries!.perTryTimeoutMs, 1_000);
    assert.deepEqual(billing.traffic![1]!.to, { v1: 95, v2: 5 });
    assert.deepEqual(billing.fault, { delay: { percent: 0, durationMs: 2_000 }, abort: { percent: 0, status: 503 } });
    assert.deepEqual(
      billing.run!.map((r) => [r.version, r.replicas]),
      [
        ['v1', 2],
        ['v2', 1],
      ],
    );
  });

  test('an unreadable file is an error without a position', async () => {
    const result = await loadConfigFile(join(here, 'no-such-file.yaml'));
    assert.deepEqual(errorsOf(result).map(formatConfigError), [`${join(here, 'no-such-file.yaml')}: cannot read the file: no such file`]);
  });
});

/**
 * Scenario 2: scenario 1 with the gateway's edge policies on — JWT (ES256, a valid token), a
 * memory rate limit far above the load, CORS — compared with Sekisho's own scenario-1 throughput.
 * Written against SPEC §3's keys; skipped (with the reason) while the build does not enforce them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { folderFor, interleaved, MissingFeature, type BenchContext } from '../lib/context.js';
import { formatFailures, summarizeThroughput, throughputMeasurement, type Throughput } from '../lib/measurements.js';
import { formatMs, formatRatio, formatSummary, type Section } from '../lib/report.js';
import { sekishoGateway, sekishoUnavailable, validateConfig, writeGatewayConfig } from '../peers/sekisho.js';
import type { StartedTarget, Target } from '../peers/target.js';
import { sekisho } from './gateway-throughput.js';

const ISSUER = 'https://auth.bench.local/';
const AUDIENCE = 'bench';
const ORIGIN = 'https://app.bench.local';
const GOAL = 'S2: ≥ 0.8× Sekisho’s own scenario-1 throughput';

/** The `gateway:` lines of the edge policies and the headers a legitimate client sends. */
export async function edgePolicies(dir: string): Promise<{ gatewayYaml: string; headers: Record<string, string> }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const keyFile = join(dir, 'jwt-public.pem');
  writeFileSync(keyFile, await exportSPKI(publicKey));
  const token = await new SignJWT({ scope: 'bench' })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('bench-user')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  const gatewayYaml = `  cors: { allowOrigins: [${ORIGIN}], allowMethods: [GET, POST], allowHeaders: [authorization], exposeHeaders: [x-request-id], maxAge: 10m }
  auth:
    jwt:
      issuer: ${ISSUER}
      audience: [${AUDIENCE}]
      keys: [{ file: ${keyFile} }]
      algorithms: [ES256]
      forwardClaims: { sub: x-user-id }
  rateLimit: { by: ip, limit: 100000000/s, store: memory }
`;
  return { gatewayYaml, headers: { authorization: `Bearer ${token}`, origin: ORIGIN } };
}

/**
 * Which policies the running gateway does *not* enforce: a request without a token must get 401,
 * an allowed Origin must get `access-control-allow-origin`, and answers must carry `RateLimit`.
 */
export async function inactivePolicies(started: StartedTarget, headers: Record<string, string>): Promise<string[]> {
  const missing: string[] = [];
  const anonymous = await request(started.url, { headers: { origin: ORIGIN } });
  await anonymous.body.dump();
  if (anonymous.statusCode !== 401) missing.push(`JWT (a request without a token got ${anonymous.statusCode}, not 401)`);
  const allowed = await request(started.url, { headers });
  await allowed.body.dump();
  if (allowed.headers['access-control-allow-origin'] !== ORIGIN) missing.push('CORS (no access-control-allow-origin on an allowed origin)');
  if (allowed.headers['ratelimit'] === undefined) missing.push('rate limit (no RateLimit header)');
  return missing;
}

export interface EdgePoliciesData {
  readonly withPolicies?: Throughput;
  readonly plain?: Throughput;
}

/**
 * Sekisho with the policies: a gateway that does not enforce them (this build lacks the filters)
 * is reported as a missing feature, not measured as if it did.
 */
function withPoliciesTarget(policies: { gatewayYaml: string; headers: Record<string, string> }): Target {
  const base = sekishoGateway({ name: 'Sekisho + JWT, rate limit, CORS', logLevel: 'warn', gatewayYaml: policies.gatewayYaml, requestHeaders: policies.headers });
  return {
    ...base,
    async start(upstreamPort, dir) {
      const started = await base.start(upstreamPort, dir);
      const inactive = await inactivePolicies(started, policies.headers);
      if (inactive.length === 0) return started;
      await started.stop();
      throw new MissingFeature(`this build does not enforce ${inactive.join('; ')}`);
    },
  };
}

export async function edgePolicyThroughput(ctx: BenchContext): Promise<{ section: Section; data: EdgePoliciesData }> {
  const title = 'Scenario 2 — gateway with JWT (ES256), rate limit (memory) and CORS: maximum throughput';
  const unavailable = sekishoUnavailable();
  if (unavailable) return skipped(title, unavailable);
  const dir = folderFor(ctx.workDir, 'edge-policies');
  const policies = await edgePolicies(dir);
  const refused = validateConfig((await writeGatewayConfig(dir, ctx.upstream.port, policies.gatewayYaml)).file);
  if (refused) return skipped(title, `this build refuses SPEC §3’s edge-policy keys: ${refused.split('\n').slice(0, 3).join(' ')}`);

  // Measured side by side with plain Sekisho, round after round, so the ratio is fair on a busy machine.
  const target = withPoliciesTarget(policies);
  const [plainOutcome, policiesOutcome] = await interleaved(ctx, [sekisho, target], throughputMeasurement(ctx));
  if (policiesOutcome?.problem?.startsWith('skipped')) return skipped(title, policiesOutcome.problem.slice('skipped: '.length));
  const plain = plainOutcome?.result && summarizeThroughput(plainOutcome.result);
  const withPolicies = policiesOutcome?.result && summarizeThroughput(policiesOutcome.result);
  const ratio = plain && withPolicies && plain.errors === 0 && withPolicies.errors === 0 ? withPolicies.rps.median / plain.rps.median : undefined;
  const row = (name: string, figures: Throughput | undefined, problem: string | undefined, ratioCell: string): string[] =>
    figures
      ? [name, formatSummary(figures.rps), ratioCell, formatMs(figures.p50Ms), formatMs(figures.p99Ms), formatFailures(figures)]
      : [name, problem ?? 'not measured', '', '', '', ''];
  return {
    data: { withPolicies, plain },
    section: {
      title,
      setup: '`wrk -t1 -c50` with a valid ES256 bearer token and an allowed `Origin` on every request; rate limit `by: ip` at 100,000,000/s (never reached). Sekisho without policies runs beside it and is measured in turn, round after round.',
      table: [
        ['target', 'req/s', '× Sekisho without policies', 'p50 (closed loop)', 'p99 (closed loop)', 'failed requests'],
        row('Sekisho', plain, plainOutcome?.problem, '1.00×'),
        row(target.name, withPolicies, policiesOutcome?.problem, formatRatio(ratio)),
      ],
      notes: [],
      checks: [{ goal: GOAL, measured: formatRatio(ratio), met: ratio === undefined ? undefined : ratio >= 0.8 }],
    },
  };
}

function skipped(title: string, reason: string): { section: Section; data: EdgePoliciesData } {
  return {
    data: {},
    section: { title, setup: '', table: [], notes: [], checks: [{ goal: GOAL, measured: 'skipped', met: undefined }], skipped: reason },
  };
}

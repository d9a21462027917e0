import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { ListenAddress, SekishoConfig } from '../config/types.js';
import { isLoopback } from '../core/admin.js';
import { isMeshService } from '../mesh/snapshot.js';
import type { CertificateAuthority } from './ca.js';
import type { IssuedRecord } from './control-plane.js';
import { asRecord, HttpError, readJson, sendError, sendJson } from './http-util.js';
import type { ProxyStatus } from './push.js';
import type { Registry } from './registry.js';

/** What the admin API reads and changes. */
export interface AdminApiHost {
  readonly config: SekishoConfig;
  readonly version: number;
  readonly registry: Registry;
  readonly ca: CertificateAuthority;
  proxies(): ProxyStatus[];
  certificates(): IssuedRecord[];
  currentSplits(): Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Applies a split and pushes it; returns the new config version. */
  setSplit(service: string, split: Record<string, number>): number;
}

/**
 * The control plane's JSON admin API (SPEC §2), on `controlPlane.listen`:
 *   GET /api/services   services, versions, instances, health, splits
 *   GET /api/proxies    connected proxies and the version each acknowledged or rejected
 *   GET /api/certs      the CA and the leaf certificates issued and still valid
 *   GET /api/routes     the gateway's routes
 *   PUT /api/services/NAME/split   body {"v1": 95, "v2": 5}
 * plus /live, /ready. `adminToken` (required off loopback) is checked on every request.
 */
export function createAdminApi(address: ListenAddress, token: string | undefined, host: AdminApiHost): Server {
  if (!isLoopback(address.host) && !token) throw new Error(`control plane admin on ${address.host} is not loopback: set controlPlane.adminToken`);
  const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
  return createServer((req, res) => {
    if (expected !== undefined && !tokenMatches(req.headers.authorization, expected)) return sendJson(res, 401, { error: 'admin token required' });
    route(req, res, host).catch((error: unknown) => sendError(res, error));
  });
}

const SPLIT_PATH = /^\/api\/services\/([^/]+)\/split$/;

async function route(req: IncomingMessage, res: ServerResponse, host: AdminApiHost): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://admin').pathname;
  const split = SPLIT_PATH.exec(path);
  if (split !== null) {
    if (req.method !== 'PUT') throw new HttpError(405, 'use PUT');
    const service = decodeURIComponent(split[1]!);
    const weights = parseSplit(asRecord(await readJson(req)));
    const version = host.setSplit(service, weights);
    return sendJson(res, 200, { service, split: weights, version });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'read-only endpoint');
  switch (path) {
    case '/live':
    case '/ready':
      return sendJson(res, 200, { status: path.slice(1) });
    case '/api/services':
      return sendJson(res, 200, { version: host.version, services: services(host) });
    case '/api/proxies':
      return sendJson(res, 200, { version: host.version, proxies: host.proxies().map(proxyView) });
    case '/api/certs':
      return sendJson(res, 200, {
        ca: { fingerprint: await host.ca.fingerprint() },
        certificates: host.certificates().map((c) => ({ ...c, issuedAt: iso(c.issuedAt), notAfter: iso(c.notAfter), expiresInSeconds: Math.max(0, Math.round((c.notAfter - Date.now()) / 1000)) })),
      });
    case '/api/routes':
      return sendJson(res, 200, { version: host.version, routes: host.config.gateway?.routes ?? [] });
    default:
      throw new HttpError(404, `no admin endpoint ${path}`);
  }
}

function services(host: AdminApiHost): unknown[] {
  const instances = host.registry.list();
  const splits = host.currentSplits();
  return Object.values(host.config.services).map((service) => {
    const own = instances.filter((i) => i.service === service.name);
    return {
      name: service.name,
      mesh: isMeshService(service),
      versions: [...new Set(own.map((i) => i.version))].sort(),
      split: splits[service.name] ?? null,
      instances: isMeshService(service)
        ? own.map((i) => ({ id: i.id, version: i.version, address: `${i.host}:${i.port}`, identity: i.identity, health: i.health, registeredAt: iso(i.registeredAt) }))
        : (service.endpoints ?? []).map((e) => ({ id: e.url, version: e.version, address: `${e.host}:${e.port}`, health: 'static' })),
    };
  });
}

function proxyView(p: ProxyStatus): unknown {
  return {
    id: p.id,
    kind: p.kind,
    name: p.name,
    identity: p.identity,
    remote: p.remote,
    connectedAt: iso(p.connectedAt),
    lastSeen: iso(p.lastSeen),
    sentVersion: p.sentVersion,
    ackedVersion: p.ackedVersion,
    rejected: p.rejected ?? null,
  };
}

/** `{"v1": 95, "v2": 5}`: non-negative finite weights, at least one above zero. */
function parseSplit(body: Record<string, unknown>): Record<string, number> {
  const split: Record<string, number> = {};
  for (const [version, weight] of Object.entries(body)) {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw new HttpError(400, `weight of "${version}" must be a number ≥ 0`);
    split[version] = weight;
  }
  if (!Object.values(split).some((w) => w > 0)) throw new HttpError(400, 'a split needs at least one version with a weight above 0');
  return split;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function tokenMatches(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

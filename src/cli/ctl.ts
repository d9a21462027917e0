import { request } from 'undici';
import { table } from './table.js';

export interface CtlOptions {
  readonly controlPlane: string;
  readonly json: boolean;
  readonly token?: string;
}

type Json = Record<string, unknown>;

/**
 * `sekisho ctl status | services | routes | certs | split SERVICE v1=95 v2=5`: asks a running
 * control plane's admin API. `--json` prints the API's answer as is; otherwise a table.
 * Returns the exit code (1 when the control plane refuses or cannot be reached).
 */
export async function runCtl(command: string, args: readonly string[], opts: CtlOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  try {
    const view = VIEWS[command];
    let body: Json;
    if (command === 'split') body = await call(opts, 'PUT', `/api/services/${encodeURIComponent(requireArg(args[0], 'SERVICE'))}/split`, parseWeights(args.slice(1)));
    else if (view !== undefined) body = await call(opts, 'GET', view.path);
    else throw new Error(`unknown ctl command "${command}": use status, services, routes, certs or split`);
    out.write(opts.json ? JSON.stringify(body, null, 2) + '\n' : command === 'split' ? `split of ${String(body['service'])} set: ${JSON.stringify(body['split'])} (config version ${String(body['version'])})\n` : view!.render(body));
    return 0;
  } catch (error) {
    err.write(`sekisho ctl: ${(error as Error).message}\n`);
    return 1;
  }
}

const VIEWS: Record<string, { path: string; render: (body: Json) => string }> = {
  status: {
    path: '/api/proxies',
    render: (body) => {
      const proxies = body['proxies'] as Json[];
      const rows = proxies.map((p) => [
        String(p['kind']),
        String(p['name']),
        String(p['id']),
        String(p['ackedVersion']),
        p['rejected'] ? `rejected v${String((p['rejected'] as Json)['version'])}: ${String((p['rejected'] as Json)['reason'])}` : Number(p['ackedVersion']) === Number(body['version']) ? 'in sync' : 'pending',
      ]);
      return `config version ${String(body['version'])}, ${proxies.length} proxies connected\n` + table([['KIND', 'NAME', 'ID', 'ACKED', 'STATE'], ...rows]);
    },
  },
  services: {
    path: '/api/services',
    render: (body) => {
      const rows: string[][] = [];
      for (const s of body['services'] as Json[]) {
        const split = s['split'] ? JSON.stringify(s['split']) : '';
        const instances = s['instances'] as Json[];
        if (instances.length === 0) rows.push([String(s['name']), '-', '-', 'no instances', split]);
        for (const i of instances) rows.push([String(s['name']), String(i['version']), String(i['address']), String(i['health']), split]);
      }
      return table([['SERVICE', 'VERSION', 'ADDRESS', 'HEALTH', 'SPLIT'], ...rows]);
    },
  },
  routes: {
    path: '/api/routes',
    render: (body) => {
      const rows = (body['routes'] as Json[]).map((r) => [String(r['name']), JSON.stringify(r['match']), String(r['service'])]);
      return table([['ROUTE', 'MATCH', 'SERVICE'], ...rows]);
    },
  },
  certs: {
    path: '/api/certs',
    render: (body) => {
      const rows = (body['certificates'] as Json[]).map((c) => [String(c['identity']), String(c['serial']).slice(0, 16), String(c['notAfter']), `${String(c['expiresInSeconds'])}s`]);
      return `CA sha256 ${String((body['ca'] as Json)['fingerprint'])}\n` + table([['IDENTITY', 'SERIAL', 'NOT AFTER', 'LEFT'], ...rows]);
    },
  },
};

function requireArg(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new Error(`missing ${name}`);
  return value;
}

/** `v1=95 v2=5` → `{v1: 95, v2: 5}`. */
function parseWeights(args: readonly string[]): Record<string, number> {
  if (args.length === 0) throw new Error('give the split as VERSION=WEIGHT pairs, e.g. v1=95 v2=5');
  const split: Record<string, number> = {};
  for (const arg of args) {
    const m = /^([^=]+)=(\d+(?:\.\d+)?)$/.exec(arg);
    if (m === null) throw new Error(`"${arg}" is not VERSION=WEIGHT`);
    split[m[1]!] = Number(m[2]);
  }
  return split;
}

async function call(opts: CtlOptions, method: 'GET' | 'PUT', path: string, body?: unknown): Promise<Json> {
  const base = opts.controlPlane.replace(/\/+$/, '');
  const token = opts.token ?? process.env['SEKISHO_ADMIN_TOKEN'];
  let res;
  try {
    res = await request(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
  } catch (error) {
    throw new Error(`cannot reach the control plane at ${base}: ${(error as Error).message}`);
  }
  const text = await res.body.text();
  const parsed = JSON.parse(text) as Json;
  if (res.statusCode !== 200) throw new Error(`${res.statusCode}: ${String(parsed['error'] ?? text)}`);
  return parsed;
}

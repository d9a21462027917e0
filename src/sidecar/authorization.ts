import type { MeshConfig, ServiceConfig } from '../config/types.js';
import type { RequestContext } from '../core/context.js';
import type { Filter, FilterVerdict } from '../core/filter.js';
import { Problem } from '../core/problem.js';
import { peerOf, type Peer } from './peer.js';

/** One `authorization.allow` entry, compiled. */
interface CompiledRule {
  /** `services.billing.authorization.allow[0]`, how a denial names it. */
  readonly name: string;
  readonly from: readonly string[];
  readonly methods: ReadonlySet<string> | undefined;
  readonly paths: readonly RegExp[] | undefined;
  readonly text: string;
}

/**
 * The inbound side's authorization: the verified peer identity against the service's
 * `authorization.allow` rules — or, when it has none, `mesh.defaultAuthorization`
 * (`authenticated`: any identity of this mesh; `deny`: nobody). On success the app is told who
 * called with `x-sekisho-peer` (a client-sent copy was already removed with the other
 * `x-sekisho-*` headers). A denial is a 403 naming the rule.
 *
 * `from` lists caller service names, `gateway` (any gateway of the mesh), `gateway/NAME`, or `*`
 * (any mesh identity). `paths` are exact, or globs where `*` matches any run of characters.
 */
export function authorizationFilter(mesh: MeshConfig, service: ServiceConfig): Filter {
  const rules = service.authorization?.allow.map((rule, i) => compileRule(service.name, rule, i));
  const where = `services.${service.name}.authorization.allow`;
  return {
    name: 'authorization',
    onRequest(ctx: RequestContext): FilterVerdict {
      const peer = peerOf(ctx.req.socket);
      if (peer === undefined || peer.identity === undefined || peer.identity.mesh !== mesh.name) {
        return new Problem('forbidden', `peer ${peer?.spiffeId || 'without a SPIFFE ID'} is not a member of mesh "${mesh.name}"`);
      }
      const denial = rules === undefined ? defaultDecision(mesh, service.name) : decide(rules, where, peer, ctx);
      if (denial !== undefined) return new Problem('forbidden', denial);
      ctx.upstreamHeaders.push('x-sekisho-peer', peer.spiffeId);
      return undefined;
    },
  };
}

function defaultDecision(mesh: MeshConfig, service: string): string | undefined {
  if (mesh.defaultAuthorization === 'authenticated') return undefined;
  return `mesh.defaultAuthorization is deny and service "${service}" has no authorization rules`;
}

/** undefined when a rule allows the request, else why not. */
function decide(rules: readonly CompiledRule[], where: string, peer: Peer, ctx: RequestContext): string | undefined {
  let callerRule: CompiledRule | undefined;
  for (const rule of rules) {
    if (!rule.from.some((from) => fromMatches(from, peer))) continue;
    callerRule ??= rule;
    if (rule.methods !== undefined && !rule.methods.has(ctx.method)) continue;
    if (rule.paths !== undefined && !rule.paths.some((p) => p.test(ctx.path))) continue;
    return undefined;
  }
  if (callerRule === undefined) return `no rule in ${where} allows ${peer.spiffeId}`;
  return `${callerRule.name} allows ${peer.spiffeId} only ${callerRule.text}; not ${ctx.method} ${ctx.path}`;
}

function fromMatches(from: string, peer: Peer): boolean {
  const identity = peer.identity!;
  if (from === '*') return true;
  if (identity.kind === 'gateway') return from === 'gateway' || from === `gateway/${identity.name}`;
  return identity.kind === 'svc' && from === identity.name;
}

function compileRule(service: string, rule: { from: readonly string[]; methods?: readonly string[]; paths?: readonly string[] }, index: number): CompiledRule {
  const methods = rule.methods?.length ? new Set(rule.methods) : undefined;
  const paths = rule.paths?.length ? rule.paths.map(globToRegExp) : undefined;
  const text = `${rule.methods?.length ? `${rule.methods.join('|')} ` : ''}${rule.paths?.length ? rule.paths.join(', ') : 'any path'}`;
  return { name: `services.${service}.authorization.allow[${index}]`, from: rule.from, methods, paths, text };
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

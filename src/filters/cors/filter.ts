import type { RequestContext } from '../../core/context.js';
import { RESPONDED, type Filter, type FilterVerdict } from '../../core/filter.js';
import { Problem } from '../../core/problem.js';
import type { CorsPolicy } from './config.js';

const PREFLIGHT_VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';

/**
 * CORS at the edge (Fetch standard), placed before routing so a preflight never needs a route
 * match, a token or a rate-limit slot:
 * - a preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here with
 *   204 and never forwarded; from a disallowed origin it gets 403 `forbidden`;
 * - any other request goes on; from an allowed origin its response (an upstream answer or an
 *   error of a later filter alike) carries the CORS headers, from a disallowed one none.
 * Every response says `Vary: Origin`, so caches never serve one origin's answer to another.
 */
export class CorsFilter implements Filter {
  readonly name = 'cors';

  constructor(private readonly policy: CorsPolicy) {}

  onRequest(ctx: RequestContext): FilterVerdict {
    const origin = ctx.header('origin');
    const preflight = ctx.method === 'OPTIONS' && origin !== undefined && ctx.header('access-control-request-method') !== undefined;
    if (preflight) return this.answerPreflight(ctx, origin);
    const out = ctx.responseHeaders;
    out.push('vary', 'Origin');
    if (origin === undefined) return undefined;
    const allowed = this.policy.allowOriginFor(origin);
    if (allowed === undefined) return undefined;
    out.push('access-control-allow-origin', allowed.value);
    if (allowed.credentials) out.push('access-control-allow-credentials', 'true');
    if (this.policy.exposeHeaders !== '') out.push('access-control-expose-headers', this.policy.exposeHeaders);
    return undefined;
  }

  private answerPreflight(ctx: RequestContext, origin: string): FilterVerdict {
    const allowed = this.policy.allowOriginFor(origin);
    if (allowed === undefined) {
      ctx.responseHeaders.push('vary', PREFLIGHT_VARY);
      return new Problem('forbidden', `origin ${JSON.stringify(origin)} is not allowed`);
    }
    const policy = this.policy;
    const headers = [
      'vary', PREFLIGHT_VARY,
      'access-control-allow-origin', allowed.value,
      'access-control-allow-methods', policy.allowMethods,
      'x-request-id', ctx.requestId,
      'content-length', '0',
    ];
    if (allowed.credentials) headers.push('access-control-allow-credentials', 'true');
    if (policy.allowHeaders !== '') headers.push('access-control-allow-headers', policy.allowHeaders);
    if (policy.maxAge !== '') headers.push('access-control-max-age', policy.maxAge);
    for (const h of ctx.responseHeaders) headers.push(h);
    ctx.status = 204;
    ctx.res.writeHead(204, headers);
    ctx.res.end();
    return RESPONDED;
  }
}

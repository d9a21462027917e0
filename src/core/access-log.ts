import type { Logger } from 'pino';
import type { RequestContext } from './context.js';

/**
 * One JSON line per request (SPEC §7). The field set is fixed so log pipelines can rely on it;
 * absent values are null rather than missing.
 */
export function writeAccessLog(logger: Logger, ctx: RequestContext, durationMs: number): void {
  if (!logger.isLevelEnabled('info')) return; // no line object built when nobody reads it
  const route = ctx.route;
  const endpoint = ctx.endpoint;
  logger.info({
    requestId: ctx.requestId,
    traceId: ctx.traceId,
    clientIp: ctx.clientIp,
    method: ctx.method,
    path: ctx.path,
    route: route?.name ?? null,
    service: route?.service.name ?? null,
    version: endpoint?.config.version ?? null,
    upstream: endpoint?.address ?? null,
    attempts: ctx.attempts,
    status: ctx.status,
    duration: Math.round(durationMs * 1000) / 1000,
    bytes: ctx.bytesSent,
    reason: ctx.reason ?? null,
    detail: ctx.detail ?? null,
  }, 'request');
}

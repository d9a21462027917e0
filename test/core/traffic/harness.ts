import { loadConfigString } from '../../../src/config/load.js';
import type { ServiceConfig, ServiceEndpoint } from '../../../src/config/types.js';
import { RequestContext } from '../../../src/core/context.js';
import type { HttpRequest, HttpResponse } from '../../../src/core/http1/message.js';
import type { Problem } from '../../../src/core/problem.js';
import { UpstreamExchange } from '../../../src/core/proxy/exchange.js';
import { ProxyMetrics } from '../../../src/core/proxy-metrics.js';
import { buildRoutes, buildServices, type Route, type Runtime } from '../../../src/core/runtime.js';
import type { Service } from '../../../src/core/service/service.js';
import type { UpstreamHandler, UpstreamRequest, UpstreamTransport } from '../../../src/core/upstream/transport.js';

/** One dispatch a fake transport received; the test plays the upstream through `handler`. */
export interface Dispatch {
  readonly endpoint: string;
  readonly request: UpstreamRequest;
  readonly handler: UpstreamHandler;
  aborted: Error | undefined;
}

/**
 * Transports that record dispatches instead of connecting. Aborting a dispatch calls the
 * handler's onError with the reason, as the real pool does.
 */
export class FakeUpstreams {
  readonly dispatches: Dispatch[] = [];

  transportFor = (_service: ServiceConfig, endpoint: ServiceEndpoint): UpstreamTransport => ({
    dispatch: (request, handler) => {
      const entry: Dispatch = { endpoint: endpoint.url, request, handler, aborted: undefined };
      this.dispatches.push(entry);
      handler.onConnect((reason) => {
        if (entry.aborted !== undefined) return;
        entry.aborted = reason ?? new Error('aborted');
        handler.onError(entry.aborted);
      });
    },
    probe: () => Promise.resolve(200),
    close: () => Promise.resolve(),
  });

  get last(): Dispatch {
    return this.dispatches[this.dispatches.length - 1]!;
  }
}

/** Answers `d` with a status (and optional headers), then completes it. */
export function answer(d: Dispatch, status: number, headers: Record<string, string> = {}, body = ''): boolean {
  const raw = Object.entries(headers).flatMap(([k, v]) => [k, v]);
  const accepted = d.handler.onHeaders(status, raw, () => {}, '');
  if (body !== '') d.handler.onData(Buffer.from(body));
  d.handler.onComplete(null);
  return accepted;
}

export function fail(d: Dispatch, code: string): void {
  d.handler.onError(Object.assign(new Error(code), { code }));
}

/** The part of a ServerResponse the exchange uses, recording what was written. */
export class FakeResponse {
  status = 0;
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  body = '';
  writeHead(status: number): this {
    this.status = status;
    this.headersSent = true;
    return this;
  }
  write(chunk: Buffer): boolean {
    this.body += chunk.toString();
    return true;
  }
  end(): void {
    this.writableFinished = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  onDrain: (() => void) | undefined = undefined;
}

export interface Harness {
  readonly upstreams: FakeUpstreams;
  readonly service: Service;
  readonly route: Route;
  /** Starts a request; `problems` collects what the exchange answered itself. */
  request(init?: { method?: string; headers?: Record<string, string> }): Started;
}

export interface Started {
  readonly ctx: RequestContext;
  readonly res: FakeResponse;
  readonly exchange: UpstreamExchange;
  problem: Problem | undefined;
}

/** A service named `app` built from `serviceYaml` (YAML lines under it) with fake endpoints. */
export function harness(serviceYaml: string, endpoints = 2): Harness {
  const urls = Array.from({ length: endpoints }, (_, i) => `http://127.0.0.1:${9001 + i}`);
  const loaded = loadConfigString(`
gateway:
  routes: [{ name: app, match: { pathPrefix: / }, service: app }]
services:
  app:
    endpoints: [${urls.join(', ')}]
${serviceYaml.replace(/^/gm, '    ')}
`);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  const upstreams = new FakeUpstreams();
  const metrics = new ProxyMetrics('test');
  const services = buildServices(loaded.config, metrics, undefined, upstreams.transportFor);
  const { routes } = buildRoutes(loaded.config.gateway!.routes, services, metrics);
  const route = routes[0]!;
  const service = services.get('app')!;
  return {
    upstreams,
    service,
    route,
    request(init = {}) {
      const headers = init.headers ?? {};
      const req = { method: init.method ?? 'GET', headers, destroyed: false, complete: true } as unknown as HttpRequest;
      const res = new FakeResponse();
      const ctx = new RequestContext(req, res as unknown as HttpResponse, {} as Runtime, { complete() {} }, 0);
      ctx.route = route;
      ctx.path = '/x';
      const started: Started = {
        ctx,
        res,
        problem: undefined,
        exchange: undefined as unknown as UpstreamExchange,
      };
      const exchange = new UpstreamExchange(ctx, service.all, undefined, {
        respond(_ctx, problem) {
          started.problem = problem;
          res.writeHead(problem.status);
          res.end();
        },
      });
      (started as { exchange: UpstreamExchange }).exchange = exchange;
      ctx.exchange = exchange;
      exchange.start(0);
      return started;
    },
  };
}

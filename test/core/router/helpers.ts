import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from '../../../src/config/types.js';
import type { Routable, RouteInput } from '../../../src/core/router/index.js';

/** A `RouteConfig` as `loadConfig` would produce it, with test defaults for what is not given. */
export function route(fields: Partial<RouteConfig> & { readonly name: string }): RouteConfig {
  return { index: 0, match: {}, service: fields.name, auth: 'none', ...fields };
}

/** Routers route `Routable`s; tests route bare configs wrapped this way. */
export function routables(configs: readonly RouteConfig[]): Routable[] {
  return configs.map((config) => ({ config }));
}

export interface RequestOptions {
  readonly method?: string;
  readonly host?: string;
  readonly headers?: IncomingHttpHeaders;
}

/** A router input for `target` (`/path?query`), GET to `example.com` unless told otherwise. */
export function req(target: string, options: RequestOptions = {}): RouteInput {
  const mark = target.indexOf('?');
  return {
    method: options.method ?? 'GET',
    host: options.host ?? 'example.com',
    path: mark === -1 ? target : target.slice(0, mark),
    query: mark === -1 ? '' : target.slice(mark + 1),
    headers: options.headers ?? {},
  };
}

/** For failure messages: the request in one line. */
export function show(input: RouteInput): string {
  const query = input.query === '' ? '' : `?${input.query}`;
  return `${input.method} ${input.host}${input.path}${query} ${JSON.stringify(input.headers)}`;
}

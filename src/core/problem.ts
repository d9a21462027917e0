import type { HttpResponse } from './http1/message.js';

/**
 * Errors Sekisho produces itself (SPEC §6): RFC 9457 problem documents with a stable `code`,
 * echoed in `x-sekisho-reason`. The table is the single place that ties a code to its status.
 */
export const PROBLEMS = {
  no_route: { status: 404, title: 'Not Found' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  rate_limited: { status: 429, title: 'Too Many Requests' },
  body_too_large: { status: 413, title: 'Content Too Large' },
  bad_request: { status: 400, title: 'Bad Request' },
  upstream_timeout: { status: 504, title: 'Gateway Timeout' },
  upstream_unavailable: { status: 503, title: 'Service Unavailable' },
  circuit_open: { status: 503, title: 'Service Unavailable' },
  no_healthy_upstream: { status: 503, title: 'Service Unavailable' },
  auth_unavailable: { status: 503, title: 'Service Unavailable' },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

const PROBLEM_TYPE_BASE = 'https://sekisho.dev/problems/';

/**
 * A response decided by Sekisho rather than an upstream. Filters return one to stop the
 * pipeline; the proxy turns upstream failures into one. `status` defaults to the code's
 * status but may differ (an upstream reset is a 502 `upstream_unavailable`).
 */
export class Problem {
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    /** Extra response headers as a flat `[name, value, …]` list (e.g. `retry-after`). */
    readonly headers: readonly string[] = NO_HEADERS,
    status?: number,
  ) {
    this.status = status ?? PROBLEMS[code].status;
  }
}

const NO_HEADERS: readonly string[] = Object.freeze([]);

/** The problem document's JSON text. */
export function problemBody(problem: Problem, requestId: string): string {
  return JSON.stringify({
    type: PROBLEM_TYPE_BASE + problem.code,
    title: PROBLEMS[problem.code].title,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    requestId,
  });
}

/** The response headers every problem document carries, its own extra ones included. */
export function problemHeaders(problem: Problem, body: string): string[] {
  const headers: string[] = [
    'content-type', 'application/problem+json',
    'content-length', String(Buffer.byteLength(body)),
    'cache-control', 'no-store',
    'x-sekisho-reason', problem.code,
  ];
  for (const h of problem.headers) headers.push(h);
  return headers;
}

/**
 * Writes `problem` as the whole response. `extraHeaders` are the headers filters asked to add to
 * every response of this request (CORS, RateLimit, x-request-id).
 */
export function sendProblem(
  res: HttpResponse,
  problem: Problem,
  requestId: string,
  extraHeaders: readonly string[],
  head: boolean,
): number {
  const body = problemBody(problem, requestId);
  const headers = problemHeaders(problem, body);
  for (const h of extraHeaders) headers.push(h);
  res.writeHead(problem.status, headers);
  res.end(head ? undefined : body);
  return head ? 0 : Buffer.byteLength(body);
}

import type { HttpRequest, HttpResponse } from '../core/http1/message.js';
import { Problem, sendProblem } from '../core/problem.js';

type Handler = (req: HttpRequest, res: HttpResponse) => void;

/**
 * Requests that arrived before the proxy had its first config: held (bounded in time) and
 * handed to the proxy as soon as it has one, so an app that starts before its sidecar is ready
 * sees a short wait rather than an error.
 */
export class PendingRequests {
  private readonly held = new Set<{ req: HttpRequest; res: HttpResponse; timer: NodeJS.Timeout }>();

  constructor(
    private readonly waitMs: number,
    private readonly what: string,
  ) {}

  hold(req: HttpRequest, res: HttpResponse): void {
    const entry = {
      req,
      res,
      timer: setTimeout(() => {
        this.held.delete(entry);
        const problem = new Problem('upstream_unavailable', `${this.what} is not ready: no config from the control plane yet`);
        sendProblem(res, problem, '', [], req.method === 'HEAD');
      }, this.waitMs),
    };
    this.held.add(entry);
    res.whenClosed(() => {
      clearTimeout(entry.timer);
      this.held.delete(entry);
    }, undefined);
  }

  release(handler: Handler): void {
    for (const entry of this.held) {
      clearTimeout(entry.timer);
      handler(entry.req, entry.res);
    }
    this.held.clear();
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Problem, sendProblem } from '../core/problem.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Requests that arrived before the proxy had its first config: held (bounded in time) and
 * handed to the proxy as soon as it has one, so an app that starts before its sidecar is ready
 * sees a short wait rather than an error.
 */
export class PendingRequests {
  private readonly held = new Set<{ req: IncomingMessage; res: ServerResponse; timer: NodeJS.Timeout }>();

  constructor(
    private readonly waitMs: number,
    private readonly what: string,
  ) {}

  hold(req: IncomingMessage, res: ServerResponse): void {
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
    res.once('close', () => {
      clearTimeout(entry.timer);
      this.held.delete(entry);
    });
  }

  release(handler: Handler): void {
    for (const entry of this.held) {
      clearTimeout(entry.timer);
      handler(entry.req, entry.res);
    }
    this.held.clear();
  }
}

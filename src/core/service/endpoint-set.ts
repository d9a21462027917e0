import { createBalancer, type Balancer } from './balancer.js';
import type { Endpoint } from './endpoint.js';
import { rendezvous } from './sticky.js';

/**
 * The endpoints of one version of a service (`v1`, `v2` …), or of the whole service, with the
 * balancer that chooses among the available ones. Traffic splits choose a set, the set chooses
 * the endpoint. Endpoints come from `ServiceEndpoint.version`, for static endpoints and for mesh
 * registry instances alike.
 */
export class EndpointSet {
  /** Endpoints offered to the balancer: rebuilt when availability changes, never per request. */
  private available: Endpoint[] = [];
  private readonly balancer: Balancer;

  constructor(
    /** The version label, or `*` for the whole service. */
    readonly version: string,
    readonly endpoints: readonly Endpoint[],
    loadBalancer: 'round-robin' | 'least-request' | 'random',
  ) {
    this.balancer = createBalancer(loadBalancer);
    this.refresh();
  }

  get availableCount(): number {
    return this.available.length;
  }

  refresh(): void {
    this.available = this.endpoints.filter((e) => e.available);
  }

  /**
   * An endpoint for the next attempt, or undefined when none is available. `avoid` (the endpoint
   * the previous attempt failed on) is passed over when another is available, so a retry goes
   * elsewhere. With a sticky key the key decides (rendezvous hashing).
   */
  pick(avoid: Endpoint | undefined, stickyHash: number | undefined): Endpoint | undefined {
    const available = this.available;
    const n = available.length;
    if (n === 0) return undefined;
    if (stickyHash !== undefined) return rendezvous(available, stickyHash, avoid);
    let endpoint = this.balancer.pick(available);
    if (endpoint === avoid && n > 1) {
      endpoint = this.balancer.pick(available);
      if (endpoint === avoid) endpoint = available[(available.indexOf(endpoint) + 1) % n]!;
    }
    return endpoint;
  }
}

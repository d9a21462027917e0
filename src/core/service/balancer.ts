import type { Endpoint } from './endpoint.js';

/**
 * Chooses one endpoint from a non-empty list of available ones. Implementations keep only
 * tiny state (a cursor) and never allocate per pick.
 */
export interface Balancer {
  pick(endpoints: readonly Endpoint[]): Endpoint;
}

/** Takes turns. The cursor survives changes in the list, so a flapping host does not reset it. */
export class RoundRobinBalancer implements Balancer {
  private next = 0;
  pick(endpoints: readonly Endpoint[]): Endpoint {
    if (this.next >= endpoints.length) this.next = 0;
    return endpoints[this.next++]!;
  }
}

/**
 * Power of two choices on requests in flight: two random endpoints, the less busy one wins.
 * Near-optimal spreading without scanning every endpoint (Envoy's and Linkerd's default).
 */
export class LeastRequestBalancer implements Balancer {
  constructor(private readonly random: () => number = Math.random) {}
  pick(endpoints: readonly Endpoint[]): Endpoint {
    const n = endpoints.length;
    if (n === 1) return endpoints[0]!;
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j++; // two distinct, uniformly chosen endpoints
    const a = endpoints[i]!;
    const b = endpoints[j]!;
    return b.active < a.active ? b : a;
  }
}

export class RandomBalancer implements Balancer {
  constructor(private readonly random: () => number = Math.random) {}
  pick(endpoints: readonly Endpoint[]): Endpoint {
    return endpoints[Math.floor(this.random() * endpoints.length)]!;
  }
}

export function createBalancer(kind: 'round-robin' | 'least-request' | 'random'): Balancer {
  switch (kind) {
    case 'round-robin':
      return new RoundRobinBalancer();
    case 'least-request':
      return new LeastRequestBalancer();
    case 'random':
      return new RandomBalancer();
  }
}

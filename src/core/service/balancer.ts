import type { Endpoint } from './endpoint.js';

/**
 * Chooses one endpoint from a non-empty list of available ones, honouring endpoint weights
 * (`ServiceEndpoint.weight`: relative shares; 0 drains an endpoint unless every weight is 0).
 *
 * The list handed in is rebuilt by the service only when availability changes, so balancers
 * precompute what they need (weights, running totals) when they see a new list, keyed by its
 * identity, and never allocate per pick.
 */
export interface Balancer {
  pick(endpoints: readonly Endpoint[]): Endpoint;
}

/** Per-list weight facts, recomputed when the list changes. */
class Weights {
  list: readonly Endpoint[] | undefined = undefined;
  /** False when every weight is equal: the plain (cheaper) algorithm applies. */
  weighted = false;
  total = 0;
  /** Running totals: `cumulative[i]` = weight of endpoints 0..i. */
  cumulative = new Float64Array(0);

  refresh(endpoints: readonly Endpoint[]): void {
    this.list = endpoints;
    const n = endpoints.length;
    this.cumulative = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += endpoints[i]!.config.weight;
      this.cumulative[i] = total;
    }
    this.total = total;
    const first = endpoints[0]!.config.weight;
    this.weighted = total > 0 && endpoints.some((e) => e.config.weight !== first);
  }

  /** The endpoint whose share of [0, total) contains `point`. */
  at(endpoints: readonly Endpoint[], point: number): Endpoint {
    const cumulative = this.cumulative;
    for (let i = 0; i < cumulative.length; i++) if (point < cumulative[i]!) return endpoints[i]!;
    return endpoints[endpoints.length - 1]!;
  }
}

/**
 * Takes turns. With unequal weights this is nginx's smooth weighted round-robin: over any
 * `total` picks each endpoint gets exactly its weight, interleaved rather than in bursts.
 * The plain cursor survives changes in the list, so a flapping host does not reset it.
 */
export class RoundRobinBalancer implements Balancer {
  private next = 0;
  private readonly weights = new Weights();
  private current = new Float64Array(0);

  pick(endpoints: readonly Endpoint[]): Endpoint {
    const weights = this.weights;
    if (endpoints !== weights.list) {
      weights.refresh(endpoints);
      this.current = new Float64Array(endpoints.length);
    }
    if (!weights.weighted) {
      if (this.next >= endpoints.length) this.next = 0;
      return endpoints[this.next++]!;
    }
    const current = this.current;
    let best = 0;
    for (let i = 0; i < endpoints.length; i++) {
      current[i]! += endpoints[i]!.config.weight;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= weights.total;
    return endpoints[best]!;
  }
}

/**
 * Power of two choices on requests in flight: two endpoints drawn at random (by weight), the one
 * with fewer requests per unit of weight wins. Near-optimal spreading without scanning every
 * endpoint (Envoy's and Linkerd's default).
 */
export class LeastRequestBalancer implements Balancer {
  private readonly weights = new Weights();
  constructor(private readonly random: () => number = Math.random) {}

  pick(endpoints: readonly Endpoint[]): Endpoint {
    const n = endpoints.length;
    if (n === 1) return endpoints[0]!;
    const weights = this.weights;
    if (endpoints !== weights.list) weights.refresh(endpoints);
    if (!weights.weighted) {
      const i = Math.floor(this.random() * n);
      let j = Math.floor(this.random() * (n - 1));
      if (j >= i) j++; // two distinct, uniformly chosen endpoints
      const a = endpoints[i]!;
      const b = endpoints[j]!;
      return b.active < a.active ? b : a;
    }
    const a = weights.at(endpoints, this.random() * weights.total);
    const b = weights.at(endpoints, this.random() * weights.total);
    return (b.active + 1) / b.config.weight < (a.active + 1) / a.config.weight ? b : a;
  }
}

/** Uniform, or proportional to weight. */
export class RandomBalancer implements Balancer {
  private readonly weights = new Weights();
  constructor(private readonly random: () => number = Math.random) {}

  pick(endpoints: readonly Endpoint[]): Endpoint {
    const weights = this.weights;
    if (endpoints !== weights.list) weights.refresh(endpoints);
    if (!weights.weighted) return endpoints[Math.floor(this.random() * endpoints.length)]!;
    return weights.at(endpoints, this.random() * weights.total);
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

import type { TrafficRule } from '../../config/types.js';
import { matchesPrefix, normalizePrefix } from '../router/path.js';
import { compilePredicate, type RoutePredicate } from '../router/predicate.js';
import type { RouteInput } from '../router/types.js';
import type { EndpointSet } from './endpoint-set.js';
import { unitInterval } from './sticky.js';

/** One `traffic` rule, compiled: its condition and its versions with running weight totals. */
class CompiledRule {
  private readonly headers: RoutePredicate;
  /** Normalized prefixes (`/a/` → `/a`, a trailing `/*` dropped); empty = any path. */
  private readonly paths: readonly string[];
  readonly targets: readonly EndpointSet[];
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(rule: TrafficRule, setFor: (version: string) => EndpointSet) {
    this.headers = compilePredicate({ headers: rule.match?.headers });
    this.paths = (rule.match?.paths ?? []).map((p) => normalizePrefix(p.endsWith('/*') ? p.slice(0, -2) : p));
    const versions = Object.entries(rule.to).filter(([, weight]) => weight > 0);
    this.targets = versions.map(([version]) => setFor(version));
    this.cumulative = new Float64Array(versions.length);
    let total = 0;
    versions.forEach(([, weight], i) => (this.cumulative[i] = total += weight));
    this.total = total;
  }

  matches(input: RouteInput): boolean {
    if (!this.headers(input)) return false;
    const paths = this.paths;
    if (paths.length === 0) return true;
    for (let i = 0; i < paths.length; i++) if (matchesPrefix(paths[i]!, input.path)) return true;
    return false;
  }

  /** The version whose share of the weights holds `point` ∈ [0, 1). */
  choose(point: number): EndpointSet {
    const target = point * this.total;
    const cumulative = this.cumulative;
    for (let i = 0; i < cumulative.length; i++) if (target < cumulative[i]!) return this.targets[i]!;
    return this.targets[this.targets.length - 1]!;
  }
}

/**
 * A service's `traffic` rules (canary releases, header-matched previews): the first rule whose
 * match holds — every listed header condition and, when `paths` are given, one of them as a
 * segment-aware prefix of the request path — picks a version by weight (`{ v1: 95, v2: 5 }`,
 * weights normalised). A rule without `match` always holds. When no rule holds, the request may
 * go to any endpoint of the service.
 *
 * The choice is a fresh random draw per request, which keeps splits within a fraction of a point
 * over thousands of requests and free of patterns a client's own request rhythm could align
 * with. With a sticky key the key's hash is the draw instead, so a user stays on one version;
 * when the weights move (95/5 → 90/10) only the users in the moved share change version.
 *
 * A split is part of the config: changing it (a file edit, `sekisho ctl split`) is a new config
 * generation, nothing more.
 */
export class TrafficSplit {
  private readonly rules: readonly CompiledRule[];

  constructor(
    rules: readonly TrafficRule[],
    setFor: (version: string) => EndpointSet,
    private readonly all: EndpointSet,
    private readonly random: () => number = Math.random,
  ) {
    this.rules = rules.map((rule) => new CompiledRule(rule, setFor));
  }

  choose(input: RouteInput, stickyHash: number | undefined): EndpointSet {
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if (!rule.matches(input)) continue;
      if (rule.targets.length === 1) return rule.targets[0]!;
      return rule.choose(stickyHash === undefined ? this.random() : unitInterval(stickyHash));
    }
    return this.all;
  }
}

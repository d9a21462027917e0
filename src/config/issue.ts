/**
 * A problem found in a config file, located by its key path (`gateway.routes[1].match`) rather
 * than by position: every check speaks in paths, and `load.ts` turns paths into line:col once,
 * with the YAML document at hand.
 */

/** Mapping keys are strings, list indexes are numbers. */
export type KeyPath = readonly (string | number)[];

export interface Issue {
  readonly path: KeyPath;
  readonly message: string;
  /** Point at the last key itself rather than at its value (an unknown key, a bad name). */
  readonly atKey?: boolean;
}

const PLAIN_KEY = /^[A-Za-z_][\w-]*$/;

/** `['gateway', 'routes', 1, 'match']` → `gateway.routes[1].match`; odd keys are quoted: `services["a.b"]`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * The candidate closest to a misspelt word, for "did you mean" hints; case is ignored and one
 * edit per three letters is tolerated (at least one), so short words do not match anything.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

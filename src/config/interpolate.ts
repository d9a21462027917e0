import type { Issue, KeyPath } from './issue.js';
import type { YamlSource } from './yaml-source.js';

// `${NAME}`, `${NAME:-default}`, or `$${` (an escaped, literal `${`).
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value of the document, in place, from
 * `env`. The default is used when the variable is unset or empty; an unset variable without a
 * default is an issue at that value. Replaced text is never re-parsed as YAML, so a variable can
 * not change the file's structure, and values stay strings.
 *
 * `run[].command` is left alone: it goes to a shell that expands variables itself, per process,
 * and `sekisho up` gives each process its own `PORT`, which does not exist at load time.
 */
export function interpolateEnv(source: YamlSource, env: NodeJS.ProcessEnv): Issue[] {
  const issues: Issue[] = [];
  source.forEachValueScalar((scalar, path) => {
    if (typeof scalar.value !== 'string' || isShellCommand(path)) return;
    const unset: string[] = [];
    scalar.value = scalar.value.replace(REFERENCE, (reference, name?: string, fallback?: string) => {
      if (name === undefined) return '${';
      const value = env[name];
      if (fallback !== undefined && !value) return fallback;
      if (value !== undefined) return value;
      unset.push(name);
      return reference;
    });
    if (unset.length === 1) issues.push({ path, message: `environment variable ${unset[0]} is not set` });
    if (unset.length > 1) issues.push({ path, message: `environment variables ${unset.join(', ')} are not set` });
  });
  return issues;
}

function isShellCommand(path: KeyPath): boolean {
  return path.length === 5 && path[0] === 'services' && path[2] === 'run' && path[4] === 'command';
}

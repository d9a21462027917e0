import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { interpolateEnv } from './interpolate.js';
import { formatKeyPath, type Issue } from './issue.js';
import { buildConfig } from './normalize.js';
import type { RawFile } from './raw.js';
import { checkSchema } from './schema.js';
import { checkSemantics } from './semantic.js';
import type { SekishoConfig } from './types.js';
import { YamlSource } from './yaml-source.js';

/**
 * One problem in a config file. `line` and `col` are 1-based; both are 0 when the problem is the
 * file as a whole (it can not be read). `path` is the dotted key path of the offending value
 * (`gateway.routes[1].match.pathPrefix`), empty for YAML syntax errors and the document root.
 */
export interface ConfigError {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly path: string;
  readonly message: string;
}

export type LoadResult =
  | { readonly ok: true; readonly config: SekishoConfig }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };

/** The `file` of configs loaded from a string; relative paths in them resolve against the cwd. */
export const INLINE = '<inline>';

/** `FILE:LINE:COL key.path: message`, leaving out what the error does not have. */
export function formatConfigError(error: ConfigError): string {
  const where = error.line > 0 ? `${error.file}:${error.line}:${error.col}` : error.file;
  return error.path ? `${where} ${error.path}: ${error.message}` : `${where}: ${error.message}`;
}

/** Reads and loads a config file; an unreadable file is an error like any other. */
export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const message = `cannot read the file: ${describeReadError(error)}`;
    return { ok: false, errors: [{ file, line: 0, col: 0, path: '', message }] };
  }
  return loadConfigString(text, file, env);
}

function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return (error as Error).message;
}

/**
 * Parses, interpolates `${VAR}` from `env`, validates (the schema and the cross-field checks) and
 * builds the frozen config. Every problem is reported, each at its line and column, sorted by position;
 * only YAML syntax errors stop early, since nothing after them could be trusted.
 *
 * `file` names the source in errors and anchors relative paths (TLS files, keys, `run` folders).
 */
export function loadConfigString(text: string, file = INLINE, env: NodeJS.ProcessEnv = process.env): LoadResult {
  const source = new YamlSource(text);
  const syntax = source.syntaxProblems();
  if (syntax.length > 0) {
    return failure(syntax.map(({ position, message }) => ({ file, ...position, path: '', message })));
  }
  const unsetVariables = interpolateEnv(source, env);
  let data: unknown;
  try {
    data = source.toData();
  } catch (error) {
    return failure([{ file, line: 1, col: 1, path: '', message: (error as Error).message }]);
  }
  // A value whose variable is unset still holds `${VAR}`: whatever else is said about it would
  // only repeat that one problem.
  const unresolved = new Set(unsetVariables.map((issue) => formatKeyPath(issue.path)));
  const issues = [
    ...unsetVariables,
    ...[...checkSchema(data), ...checkSemantics(data)].filter((issue) => !unresolved.has(formatKeyPath(issue.path))),
  ];
  if (issues.length > 0) {
    return failure(issues.map((issue) => locate(issue, source, file)));
  }
  const path = file === INLINE ? INLINE : resolve(file);
  const baseDir = file === INLINE ? process.cwd() : dirname(path);
  return { ok: true, config: buildConfig(data as RawFile, path, baseDir) };
}

function locate(issue: Issue, source: YamlSource, file: string): ConfigError {
  const { line, col } = source.positionOf(issue.path, issue.atKey);
  return { file, line, col, path: formatKeyPath(issue.path), message: issue.message };
}

/** Sorted by position, each distinct error once (a value may break two rules that say the same). */
function failure(errors: ConfigError[]): LoadResult {
  const distinct = new Map(errors.map((e) => [`${e.line}:${e.col} ${e.path}: ${e.message}`, e]));
  const sorted = [...distinct.values()].sort((a, b) => a.line - b.line || a.col - b.col);
  return { ok: false, errors: sorted };
}

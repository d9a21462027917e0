import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { closestMatch, type Issue, type KeyPath } from './issue.js';
import { parseBackoff, parseCidr, parseEndpointUrl, parseListen } from './units.js';

/**
 * Validation against the JSON schema that ships with the package (schema/sekisho.schema.json),
 * with ajv's errors turned into one readable issue per problem.
 *
 * Human messages live in the schema itself, as `errorMessage` beside the rule they explain, where
 * VS Code's YAML extension shows them too. The schema uses no `oneOf`/`anyOf`: alternatives are
 * `type` unions (`["string", "object"]`), so ajv never produces the cascade of per-branch errors
 * that alternatives cause, and each failing value yields the errors of the one shape it has.
 */

// From src/config and from dist/config alike, the schema is two folders up.
const SCHEMA_FILE = new URL('../../schema/sekisho.schema.json', import.meta.url);

// Checks a pattern can not express (a port above 65535, a malformed IPv6 address, a base above
// its maximum), done by the same parsers the loader uses afterwards. Their messages say what is
// wrong (which part of a URL, where a regex breaks), so they are reported as they are.
const FORMATS: Readonly<Record<string, (text: string) => unknown>> = {
  'listen-address': parseListen,
  'ip-cidr': parseCidr,
  'endpoint-url': parseEndpointUrl,
  backoff: parseBackoff,
  regex: (text) => new RegExp(text),
};

/** Why `parse` rejects `text`, or undefined when it accepts it. */
function rejection(parse: (text: string) => unknown, text: string): string | undefined {
  try {
    parse(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

let validator: ValidateFunction | undefined;

/** Compiled on first use: importing the config module must stay cheap. */
function schemaValidator(): ValidateFunction {
  validator ??= compileSchema();
  return validator;
}

function compileSchema(): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  ajv.addVocabulary(['errorMessage']);
  for (const [name, parse] of Object.entries(FORMATS)) {
    ajv.addFormat(name, { type: 'string', validate: (text: string) => rejection(parse, text) === undefined });
  }
  return ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
}

/** Every schema violation in `data`, or none. */
export function checkSchema(data: unknown): Issue[] {
  const validate = schemaValidator();
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  // A value failing its pattern fails its format too; the pattern's message is the one to keep.
  const patternFailures = new Set(errors.filter((e) => e.keyword === 'pattern').map((e) => e.instancePath));
  return errors
    .filter((e) => e.keyword !== 'propertyNames') // a summary of the name's own error
    .filter((e) => e.keyword !== 'format' || !patternFailures.has(e.instancePath))
    .map((e) => toIssue(e, data));
}

function toIssue(error: ErrorObject, data: unknown): Issue {
  const path = keyPathOf(error.instancePath, data);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      return { path: [...path, key], atKey: true, message: unknownKeyMessage(key, error.parentSchema) };
    }
    case 'required':
      return { path, message: `missing required key "${String(params.missingProperty)}"` };
    case 'dependencies':
      return { path, message: `"${String(params.property)}" needs "${String(params.missingProperty)}" too` };
  }
  const message =
    (error.keyword === 'format' ? formatMessage(error) : schemaMessage(error)) ??
    genericMessage(error.keyword, params) ??
    error.message ??
    'is invalid';
  // A bad mapping key (checked by `propertyNames`) is reported at the key itself.
  if (error.propertyName !== undefined) return { path: [...path, error.propertyName], atKey: true, message };
  return { path, message };
}

function unknownKeyMessage(key: string, parentSchema: unknown): string {
  const known = Object.keys((parentSchema as { properties?: object } | undefined)?.properties ?? {});
  const suggestion = closestMatch(key, known);
  return suggestion === undefined ? `unknown key "${key}"` : `unknown key "${key}" (did you mean "${suggestion}"?)`;
}

function formatMessage(error: ErrorObject): string | undefined {
  const parse = FORMATS[String(error.params.format)];
  return parse === undefined ? undefined : rejection(parse, String(error.data));
}

function schemaMessage(error: ErrorObject): string | undefined {
  const message = (error.parentSchema as { errorMessage?: unknown } | undefined)?.errorMessage;
  return typeof message === 'string' ? message : undefined;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'empty',
};

function genericMessage(keyword: string, params: Record<string, unknown>): string | undefined {
  switch (keyword) {
    case 'type':
      return `must be ${String(params.type).split(',').map((t) => TYPE_NAMES[t] ?? t).join(' or ')}`;
    case 'enum':
      return `must be one of: ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'minimum':
      return `must be at least ${String(params.limit)}`;
    case 'maximum':
      return `must be at most ${String(params.limit)}`;
    case 'minLength':
    case 'minItems':
      return params.limit === 1 ? 'must not be empty' : undefined;
    case 'uniqueItems':
      return 'must not list the same value twice';
    default:
      return undefined;
  }
}

/**
 * ajv's JSON pointer (`/gateway/routes/1/name`) as a key path. Whether `1` is a list index or a
 * mapping key called "1" is read from the data itself.
 */
function keyPathOf(pointer: string, data: unknown): KeyPath {
  const path: (string | number)[] = [];
  let node = data;
  for (const escaped of pointer.split('/').slice(1)) {
    const key = escaped.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment = Array.isArray(node) ? Number(key) : key;
    path.push(segment);
    node = (node as Record<string | number, unknown>)[segment];
  }
  return path;
}

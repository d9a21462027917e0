import type { Runtime } from '../core/runtime.js';

const SECRET_KEYS = new Set(['secret', 'adminToken', 'joinToken']);

/** The config in force, as JSON, with secrets replaced: what `/config` shows. */
export function effectiveConfig(runtime: Runtime): unknown {
  return {
    version: runtime.version,
    config: JSON.parse(JSON.stringify(runtime.config, (key, value: unknown) => (SECRET_KEYS.has(key) && typeof value === 'string' ? '<redacted>' : value))),
  };
}

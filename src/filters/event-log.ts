/**
 * Where edge filters report outages of what they depend on (a JWKS endpoint, a Redis store).
 * Only state changes are reported — down once, back once — never once per request. The gateway
 * passes its logger; tests and tools may pass nothing.
 */
export interface EventLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export const SILENT_LOG: EventLog = { warn() {}, info() {} };

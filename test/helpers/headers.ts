import type { HeaderSource } from '../../src/core/service/sticky.js';

/** A request's headers for code that reads them one at a time, from a plain lower-case object. */
export function headerSource(headers: Readonly<Record<string, string>>): HeaderSource {
  return { header: (lowerName) => headers[lowerName] };
}

import type { CorsConfig } from '../../config/types.js';
import { CorsPolicy } from './config.js';
import { CorsFilter } from './filter.js';

export { CorsFilter } from './filter.js';
export { CorsPolicy } from './config.js';

export function createCorsFilter(config: CorsConfig): CorsFilter {
  return new CorsFilter(new CorsPolicy(config));
}

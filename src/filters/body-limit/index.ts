export { BodyLimitFilter } from './filter.js';

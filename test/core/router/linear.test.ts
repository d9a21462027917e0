import { createLinearRouter } from '../../../src/core/router/index.js';
import { runRouterConformance } from './conformance.js';

runRouterConformance('linear router', createLinearRouter);

import { createTrieRouter } from '../../../src/core/router/index.js';
import { runRouterConformance } from './conformance.js';

runRouterConformance('trie router', createTrieRouter);

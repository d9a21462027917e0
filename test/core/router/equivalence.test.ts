import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { createLinearRouter, createTrieRouter } from '../../../src/core/router/index.js';
import { prng, randomInput, randomRoutes } from './generate.js';
import { req, routables, show } from './helpers.js';

for (const [seed, count] of [[1, 20], [2, 80], [3, 300], [4, 1000]] as const) {
  it(`trie and linear routers agree on 3000 requests over ${count} generated routes (seed ${seed})`, () => {
    const random = prng(seed);
    const routes = routables(randomRoutes(random, count));
    const linear = createLinearRouter(routes);
    const trie = createTrieRouter(routes);
    for (let i = 0; i < 3000; i++) {
      const input = randomInput(random);
      assert.equal(trie.match(input), linear.match(input), show(input));
    }
  });
}

it('trie and linear routers agree on paths the proxy never produces', () => {
  const routes = routables(randomRoutes(prng(5), 300));
  const linear = createLinearRouter(routes);
  const trie = createTrieRouter(routes);
  for (const path of ['', '*', 'api/v1', '//', '/api//v1', '/api/v1//', '///users']) {
    const input = { ...req('/'), path };
    assert.equal(trie.match(input), linear.match(input), JSON.stringify(path));
  }
});

// vitest's configuration for the Keyv suite (compiled to dist/test/keyv/): only the
// *.vitest.js files next to it, so that mocha's *.test.js glob and vitest never overlap.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { root: import.meta.dirname, include: ['*.vitest.js'], testTimeout: 30_000 },
});

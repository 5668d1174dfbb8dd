import { defineConfig } from 'vitest/config';

// One run over every workspace's tests. Packages are imported through their built
// entry points (dist/), so `npm test` builds first; worker_threads need built JS anyway.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'envtest/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/vm/nested/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});

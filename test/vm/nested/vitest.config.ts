import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The root config excludes this folder from the default run (the nested tier takes minutes of
// CPU), and a CLI filter cannot bring excluded files back: this config runs just this folder.
//   VSOCK_RPC_NESTED=1 npx vitest run --config test/vm/nested/vitest.config.ts
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../../../', import.meta.url)),
    include: ['test/vm/nested/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 20 * 60_000,
    hookTimeout: 60_000,
  },
});

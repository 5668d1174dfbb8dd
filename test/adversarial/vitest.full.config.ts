import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The full adversarial run (npm run test:adversarial): full counts, one file, one worker, the
// report in test/adversarial/results/REPORT.md.
//   VSOCK_RPC_ADVERSARIAL_FULL=1 npx vitest run --config test/adversarial/vitest.full.config.ts
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../../', import.meta.url)),
    include: ['test/adversarial/adversarial.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 30 * 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});

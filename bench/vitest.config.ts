import { defineConfig } from 'vitest/config';

// The bench tests cover the pure parts only (stats, argument parsing, SVG): nothing is timed.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
  },
});

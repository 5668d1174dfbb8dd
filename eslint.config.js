// Lint that catches bugs, with type information: a forgotten `await` loses an error, a promise
// passed where a callback's result is ignored loses a rejection, a `switch` over a union that
// misses a member silently does nothing. Style is Prettier's job (.prettierrc.json), not ESLint's.
// `npm run lint` runs this on the whole tree, with Prettier's check and the type-check.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/.tmpbench/**', '**/dist/**', '**/node_modules/**', '**/build/**', 'test/vm/.cache/**', 'bench/results/**', 'test-results/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // One program per package, tests included (the tsconfig.test.json files type-check src + test).
        project: ['packages/*/tsconfig.test.json', 'envtest/tsconfig.test.json', 'bench/tsconfig.test.json', 'test/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `any` at the edges (raw frames in tests, JSON from child processes) is deliberate and typed right after.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Control characters in a regex are the point where we escape or look for them (escape-text.ts, the tests of it).
      'no-control-regex': 'off',
    },
  },
  {
    // Tool configs are outside the packages' programs: lint them without type information.
    files: ['**/vitest.config.ts', '**/vitest.*.config.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        performance: 'readonly',
      },
    },
  },
);

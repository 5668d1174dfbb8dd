#!/usr/bin/env node
// The `envtest` command. A committed file rather than dist/cli.js itself, so that `npm ci` can
// link node_modules/.bin/envtest before anything is built (npm skips bins whose file is missing).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('envtest is not built yet: run `npm run build` at the repository root, then try again');
  process.exitCode = 1;
} else {
  await import(cli.href);
}

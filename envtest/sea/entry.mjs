// The entry of the single-executable envtest (`npm run dist`, see scripts/dist.mjs): the CLI
// itself. `envtest demo` starts its clients as `<node> <dir>/cli.js client …`; in the single
// executable <node> is this file and that path does not exist, so it is dropped here.
import { dirname, join } from 'node:path';

if (process.argv[2] === join(dirname(dirname(process.execPath)), 'cli.js')) process.argv.splice(2, 1);
// A dynamic import, so that the line above runs before the CLI module reads process.argv.
void import('../dist/cli.js');

// Builds the addon (build/Release/vsock.node) with the node-gyp that ships with npm,
// only when it is missing or older than its sources, so `npm run build` stays fast.
// Never downloads: Node's headers come from the installed Node (nodedir, default
// the prefix of the running node, e.g. /usr/include/node).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(pkg, 'build', 'Release', 'vsock.node');
const sources = [join(pkg, 'native', 'vsock.c'), join(pkg, 'binding.gyp')];

const force = process.argv.includes('--force');
// From `npm ci` (the install script) a failed build must not fail the whole install: unix://,
// tcp:// and hybrid:// work without the addon, and `npm run build` (strict) reports it again.
const optional = process.argv.includes('--optional');
function giveUp(message) {
  console.error(`[vsock] ${message}`);
  if (optional) console.error('[vsock] continuing without the AF_VSOCK addon; `npm run build -w @vsock-rpc/vsock` retries');
  process.exit(optional ? 0 : 1);
}
if (!force && existsSync(out)) {
  const built = statSync(out).mtimeMs;
  if (sources.every((s) => statSync(s).mtimeMs <= built)) process.exit(0);
}

/** npm's bundled node-gyp: next to the npm that runs us, or next to this node. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a dependency: fine, npm's copy is the normal case
  }
  return candidates.find((c) => existsSync(c));
}

const gyp = findNodeGyp();
if (!gyp) giveUp('node-gyp not found (looked next to npm and node); cannot build the vsock addon');
// Headers of the running node: <prefix>/include/node. Honour an explicit nodedir.
const nodedir = process.env.npm_config_nodedir || resolve(dirname(process.execPath), '..');
if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) {
  giveUp(`Node headers not found under ${nodedir}/include/node; set npm_config_nodedir`);
}
// A C build takes a while on a small machine: say so rather than sit silent.
console.error(`[vsock] building the AF_VSOCK addon from source (node-gyp, headers from ${nodedir}; about 20 s)…`);
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], {
  cwd: pkg,
  stdio: 'inherit',
});
if (r.status !== 0)
  giveUp(`node-gyp rebuild failed (exit ${r.status ?? r.signal}): a C compiler, make and python3 are needed (Debian: apt-get install build-essential python3)`);
console.error(`[vsock] built ${out}`);

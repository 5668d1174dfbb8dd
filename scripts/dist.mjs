// `npm run dist`: envtest as ONE file, a Node single executable application (SEA) for this
// platform (linux-x64): dist/envtest-linux-x64. Copy it anywhere with a glibc and run it: no Node,
// no node_modules, no addon file next to it.
//
//  1. build the packages (turbo; skipped with --no-build, e.g. when the caller just did);
//  2. bundle every envtest worker (envtest/dist/workers/*.js) into one CommonJS source each;
//  3. bundle the CLI (envtest/sea/entry.mjs) into dist/envtest.cjs, with those sources inside: a
//     SEA runs one script and cannot start a worker from a file, so envtest/sea/worker-threads.mjs
//     starts them as eval code;
//  4. `node --experimental-sea-config` → a blob with that script and the addon
//     (packages/vsock/build/Release/vsock.node) as the asset `vsock.node`, which
//     packages/vsock/src/native.ts writes to a temp file and dlopen()s;
//  5. copy this node binary, inject the blob with postject, check that it runs, move it in place.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist');
const exe = join(out, `envtest-${process.platform}-${process.arch}`);
const addon = join(root, 'packages/vsock/build/Release/vsock.node');
const workersDir = join(root, 'envtest/dist/workers');
const log = (m) => process.stderr.write(`[dist] ${m}\n`);

if (process.platform !== 'linux') throw new Error(`npm run dist: AF_VSOCK and this build are Linux only (this is ${process.platform})`);

if (!process.argv.includes('--no-build')) {
  log('building the packages (turbo run build)');
  execFileSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { cwd: root, stdio: 'inherit' });
}
for (const f of [addon, join(root, 'envtest/dist/cli.js')]) if (!existsSync(f)) throw new Error(`npm run dist: ${f} is missing; run npm run build`);
mkdirSync(out, { recursive: true });

// The CLI is a CommonJS bundle (a SEA's main script must be), which has no import.meta: it gets
// the file URL of the running script (the executable itself inside the SEA). The workers use
// top-level await, so they are ES module bundles, started from data: URLs, with a require() for
// the CommonJS dependencies. Only packages/vsock's createRequire() and envtest's worker and demo
// paths read import.meta.url.
const common = { bundle: true, platform: 'node', target: 'node20', write: false, minify: true, legalComments: 'none', logLevel: 'warning' };
const metaUrl = { 'import.meta.url': '__importMetaUrl' };

// msgpackr's optional native accelerator looks for its prebuilt addon on disk: not in a single
// file. msgpackr runs on its pure-JS path when the module exports nothing.
const noNativeMsgpack = {
  name: 'no-msgpackr-extract',
  setup(b) {
    b.onResolve({ filter: /^msgpackr-extract$/ }, () => ({ path: 'msgpackr-extract', namespace: 'envtest-sea-empty' }));
    b.onLoad({ filter: /.*/, namespace: 'envtest-sea-empty' }, () => ({ contents: 'module.exports = undefined;', loader: 'js' }));
  },
};

log('bundling the workers');
const sources = {};
for (const f of readdirSync(workersDir).filter((n) => n.endsWith('.js'))) {
  const r = await build({
    ...common,
    format: 'esm',
    entryPoints: [join(workersDir, f)],
    define: metaUrl,
    plugins: [noNativeMsgpack],
    banner: {
      js: [
        `import { createRequire as __createRequire } from 'node:module';`,
        `import { pathToFileURL as __pathToFileURL } from 'node:url';`,
        `const require = __createRequire(process.execPath);`,
        `const __importMetaUrl = __pathToFileURL(process.execPath).href;`,
      ].join(' '),
    },
  });
  sources[f.slice(0, -3)] = r.outputFiles[0].text;
}

log('bundling the CLI');
const seaPlugin = {
  name: 'envtest-sea',
  setup(b) {
    // Only worker-handle.js gets the Worker that runs bundled sources; the shim itself and the
    // workers see Node's own module.
    b.onResolve({ filter: /^(node:)?worker_threads$/ }, (args) =>
      args.importer.endsWith(join('envtest', 'dist', 'worker-handle.js')) ? { path: join(root, 'envtest/sea/worker-threads.mjs') } : undefined,
    );
    b.onResolve({ filter: /^envtest-sea:workers$/ }, () => ({ path: 'workers', namespace: 'envtest-sea' }));
    b.onLoad({ filter: /^workers$/, namespace: 'envtest-sea' }, () => ({ contents: `export default ${JSON.stringify(sources)};`, loader: 'js' }));
    noNativeMsgpack.setup(b);
  },
};
const main = await build({
  ...common,
  format: 'cjs',
  define: metaUrl,
  banner: { js: `var __importMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
  entryPoints: [join(root, 'envtest/sea/entry.mjs')],
  plugins: [seaPlugin],
});
// Intermediate files carry the pid, so that two builds at once do not mix their blobs.
const bundle = join(out, 'envtest.cjs');
const tag = join(out, `.sea-${process.pid}`);
const blob = `${tag}.blob`;
const config = `${tag}.json`;
const tmp = `${exe}.${process.pid}.tmp`;
try {
  writeFileSync(`${tag}.cjs`, main.outputFiles[0].text);
  renameSync(`${tag}.cjs`, bundle);

  log('writing the SEA blob');
  const seaConfig = { main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets: { 'vsock.node': addon } };
  writeFileSync(config, JSON.stringify(seaConfig, null, 2) + '\n');
  execFileSync(process.execPath, ['--experimental-sea-config', config], { cwd: root, stdio: 'pipe' });

  log(`injecting it into a copy of ${process.execPath} (postject)`);
  copyFileSync(process.execPath, tmp);
  chmodSync(tmp, 0o755);
  // postject's CLI rather than its API: LIEF prints harmless "Can't find string offset for section
  // name '.note…'" warnings on node's ELF, which only a child's stderr lets us leave out.
  const postject = join(root, 'node_modules/postject/dist/cli.js');
  const pj = spawnSync(process.execPath, [postject, tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], {
    encoding: 'utf8',
  });
  if (pj.status !== 0) throw new Error(`npm run dist: postject failed (${pj.status ?? pj.signal}):\n${pj.stdout}${pj.stderr}`);
  const help = execFileSync(tmp, ['--help'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (!help.startsWith('Usage: envtest')) throw new Error(`npm run dist: ${tmp} --help printed:\n${help}`);
  renameSync(tmp, exe);
} finally {
  for (const f of [blob, config, tmp]) rmSync(f, { force: true });
}
log(`${exe}: ${(statSync(exe).size / 1e6).toFixed(1)} MB`);

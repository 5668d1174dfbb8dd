// A worker that exits with an addon watch still open. Node unloads the addon before the dead
// worker's loop runs its close callbacks: a close callback inside the addon segfaulted the
// process (found in the guest). Also checks that the env cleanup hook closes the watched fd.
// Runs in a child process so a crash cannot take vitest down. No AF_VSOCK involved: the watch
// sits on one end of an AF_UNIX socketpair.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const addon = fileURLToPath(new URL('../build/Release/vsock.node', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

it('a worker exiting with an open watch neither crashes nor leaks the fd', () => {
  const code = `
    import { Worker } from 'node:worker_threads';
    const { socketFromFd } = await import(${JSON.stringify(dist)});
    const w = new Worker(\`
      const { parentPort } = require('node:worker_threads');
      const n = require(${JSON.stringify(addon)});
      const [x, y] = n.socketpair();
      globalThis.watch = n.watchAccept(x, () => {});
      parentPort.postMessage(y);\`, { eval: true, execArgv: [] });
    const y = await new Promise((r) => w.once('message', r));
    await w.terminate();
    const s = socketFromFd(y);
    const t = setTimeout(() => { console.log('fd-leaked'); process.exit(2); }, 5000);
    s.on('close', () => { clearTimeout(t); console.log('fd-closed'); });
    s.on('error', () => {});
    s.resume();
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
  expect(r.signal, r.stderr).toBeNull(); // SIGSEGV before the fix
  expect(r.stdout.trim(), r.stderr).toBe('fd-closed');
  expect(r.status).toBe(0);
});

// Shared by the ftrace guest scripts (test/vm/guest/ftrace-*.mjs). They run INSIDE the QEMU test
// guest only (as root, on the guest's own kernel), import the BUILT @vsock-rpc/trace and write
// JSON results to $VM_RESULTS_DIR. They mount tracefs and create tracefs instances: never run
// them on the host.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const trace = await import('../../../packages/trace/dist/index.js');

/** Refuses to run outside the test guest (its signature: vsock_loopback, /dev/vhost-vsock, a results dir). */
export function assertInTestGuest(name) {
  const ok = existsSync('/sys/module/vsock_loopback') && existsSync('/dev/vhost-vsock') && !!process.env.VM_RESULTS_DIR;
  if (!ok) {
    console.error(`refusing to run ${name}: not in the QEMU test guest`);
    process.exit(3);
  }
}

export function writeResult(name, value) {
  writeFileSync(
    join(process.env.VM_RESULTS_DIR, `${name}.json`),
    JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 1),
  );
}

/** Runs one named case with a deadline; records {ok, ...value} or {ok:false, error}. */
export async function runCase(name, fn, timeoutMs = 120_000) {
  const started = performance.now();
  let timer;
  console.error(`[${name}] start`);
  try {
    const value = await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`case ${name} timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    writeResult(name, { ok: true, ms: Math.round(performance.now() - started), ...value });
    console.error(`[${name}] ok in ${Math.round(performance.now() - started)} ms`);
  } catch (err) {
    console.error(`[${name}] FAILED: ${err?.stack ?? err}`);
    writeResult(name, { ok: false, error: String(err?.stack ?? err), code: err?.code });
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn`, expecting an FtraceError; returns its code, message and path (or what was thrown instead). */
export async function errorOf(fn) {
  try {
    await fn();
    return { thrown: false };
  } catch (e) {
    return { thrown: true, name: e?.name, isFtraceError: e instanceof trace.FtraceError, code: e?.code, message: String(e?.message), path: e?.path };
  }
}

/** The tracefs instances whose name starts with vsock-rpc-. */
export function ourInstances(readdirSync) {
  try {
    return readdirSync('/sys/kernel/tracing/instances').filter((n) => n.startsWith('vsock-rpc-'));
  } catch {
    return [];
  }
}

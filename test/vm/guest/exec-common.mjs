// Shared by the vsexec guest scripts (exec-cases.mjs, exec-bench.mjs). They run INSIDE the QEMU
// test guest only (assertInTestGuest), start the BUILT `vsexec` (packages/exec/dist/cli.js) as
// processes, and write JSON results to $VM_RESULTS_DIR.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { vsock } from './vsock-common.mjs';

export const CLI = new URL('../../../packages/exec/dist/cli.js', import.meta.url).pathname;

/** Polls `cond` every 20 ms until true, or throws `what` after `ms`. */
export async function waitFor(cond, what, ms = 60_000) {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts `vsexec agent` with `args`; resolves once it logs that it listens. Its log is kept
 * (`log()`), and `stop()` ends it with SIGTERM.
 */
export async function startAgent(args) {
  const child = spawn(process.execPath, [CLI, 'agent', ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => {
    log += d.toString();
    process.stderr.write(`[agent] ${d}`);
  });
  await waitFor(() => log.includes('listening on') || child.exitCode !== null, 'the agent to listen');
  if (child.exitCode !== null) throw new Error(`vsexec agent exited with ${child.exitCode}: ${log}`);
  return {
    pid: child.pid,
    log: () => log,
    stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', resolve), child.kill('SIGTERM')))),
  };
}

/**
 * Runs `vsexec run` with `args`. `stdin`: 'ignore' (the default) or a file descriptor. Resolves
 * with code, signal, stdout (text unless `onStdout` takes the bytes) and stderr; `onSpawn` gets
 * the child, for signals.
 */
export function runCli(args, { stdin = 'ignore', onStdout, onSpawn } = {}) {
  const child = spawn(process.execPath, [CLI, 'run', ...args], { stdio: [stdin, 'pipe', 'pipe'] });
  onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (onStdout ? onStdout(d) : (stdout += d.toString())));
  child.stderr.on('data', (d) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Whether `pid` is gone: kill(pid, 0) fails with ESRCH. */
export function isGone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return err.code === 'ESRCH';
  }
}

/**
 * The VMM side of host-initiated hybrid vsock (Firecracker / Cloud Hypervisor), as the seed's
 * `socat - UNIX-CONNECT:/tmp/vmm.vsock` + `CONNECT 1234` talks to it: a unix server at `path`;
 * per connection it reads `CONNECT <port>\n`, dials vsock://1:<port>, answers `OK <localport>\n`,
 * then splices both ways.
 */
export async function startMuxer(path) {
  const sockets = new Set();
  const stats = { accepted: 0, connectLines: [], errors: [] };
  const server = net.createServer((u) => {
    stats.accepted++;
    sockets.add(u);
    u.once('close', () => sockets.delete(u));
    u.on('error', () => {});
    let buf = Buffer.alloc(0);
    const onData = async (d) => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf(0x0a);
      if (nl < 0) return buf.length > 64 ? u.destroy() : undefined;
      u.off('data', onData);
      u.pause();
      const line = buf.subarray(0, nl).toString('latin1');
      stats.connectLines.push(line);
      const m = /^CONNECT (\d{1,10})$/.exec(line);
      if (!m) return void u.destroy();
      let v;
      try {
        v = await vsock.connectVsock({ cid: 1, port: Number(m[1]), timeoutMs: 10_000 });
      } catch (e) {
        stats.errors.push(`vsock connect: ${e.code}`);
        return void u.destroy();
      }
      sockets.add(v);
      v.once('close', () => sockets.delete(v));
      // An end is passed on by pipe() once what came before it is written (a GOAWAY before the
      // agent's close must reach the host); an error tears both down.
      v.on('error', () => u.destroy());
      u.on('error', () => v.destroy());
      u.write(`OK ${v.localPort}\n`);
      const rest = buf.subarray(nl + 1);
      if (rest.length > 0) v.write(rest);
      u.pipe(v);
      v.pipe(u);
      u.resume();
    };
    u.on('data', onData);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return {
    stats,
    close: async () => {
      // Connections first: server.close() waits for every open one.
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(() => r()));
    },
  };
}

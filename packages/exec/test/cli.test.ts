/**
 * The built `vsexec` command as processes: its exit code is the remote one, a SIGINT sent to
 * `vsexec run` reaches the remote group, a `vsexec run` killed outright (SIGKILL: only the kernel
 * closes its socket) leaves no remote process, and `vsexec run -- cat /dev/zero | head -c 1G`
 * keeps both processes' memory flat. Needs `npx tsc -b packages/exec` (dist/cli.js).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isGone, onCleanup, runCli, tempDir, waitFor } from './helpers.js';

/** Starts `vsexec agent` as a process on a unix socket; resolves once it listens. */
async function agentProcess(extra: string[] = []): Promise<{ connect: string; pid: number; stderr: () => string }> {
  const connect = `unix://${path.join(tempDir(), 'agent.sock')}`;
  const { child } = runCli(['agent', '--listen', connect, ...extra]);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(() => err.includes('listening on'), 'the agent to listen');
  return { connect, pid: child.pid!, stderr: () => err };
}

/** The peak resident memory of a live process, in bytes (VmHWM). */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

describe('vsexec (the command)', () => {
  it("exits with the remote exit code, with out and err apart: sh -c 'echo out; echo err >&2; exit 3' → 3", async () => {
    const { connect } = await agentProcess();
    const r = await runCli(['run', '--connect', connect, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']).done;
    expect(r).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    const killed = await runCli(['run', '--connect', connect, '--', 'sh', '-c', 'kill -TERM $$']).done;
    expect(killed.code).toBe(128 + 15);
    const timedOut = await runCli(['run', '--connect', connect, '--timeout', '0.5', '--', 'sleep', '1000']).done;
    expect(timedOut.code).toBe(124);
    expect(timedOut.stderr).toMatch(/timed out after 0.5 s/);
    const usage = await runCli(['run', '--connect', connect]).done;
    expect(usage.code).toBe(2);
    const unreachable = await runCli(['run', '--connect', `unix://${path.join(tempDir(), 'nobody.sock')}`, '--', 'true']).done;
    expect(unreachable.code).toBe(255);
  });

  it('stdin from the host, and a wrong token refused with exit 255', async () => {
    const dir = tempDir();
    const tokenFile = path.join(dir, 'token');
    const wrongFile = path.join(dir, 'wrong');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(tokenFile, 'right-token\n');
    writeFileSync(wrongFile, 'wrong-token\n');
    const { connect, stderr } = await agentProcess(['--token-file', tokenFile]);
    const ok = await runCli(['run', '--connect', connect, '--token-file', tokenFile, '--', 'tr', 'a-z', 'A-Z'], { input: 'hello\n' }).done;
    expect(ok).toMatchObject({ code: 0, stdout: 'HELLO\n' });
    const bad = await runCli(['run', '--connect', connect, '--token-file', wrongFile, '--', 'true']).done;
    expect(bad.code).toBe(255);
    expect(bad.stderr).toMatch(/wrong or missing token.*PERMISSION_DENIED/);
    await waitFor(() => stderr().includes('refused a session'), 'the refusal in the agent log');
  });

  it('SIGINT to vsexec run goes to the remote process group', async () => {
    const { connect } = await agentProcess();
    const trap = runCli(['run', '--connect', connect, '--', 'sh', '-c', 'trap "echo got INT; exit 5" INT; echo ready; while :; do sleep 0.05; done']);
    let out = '';
    trap.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('ready'), 'the trap to be set');
    trap.child.kill('SIGINT');
    const r = await trap.done;
    expect(r.code).toBe(5);
    expect(r.stdout).toContain('got INT');
    const plain = runCli(['run', '--connect', connect, '--', 'sh', '-c', 'echo ready; exec sleep 1000']);
    let out2 = '';
    plain.child.stdout!.on('data', (d: Buffer) => (out2 += d.toString()));
    await waitFor(() => out2.includes('ready'), 'the sleep');
    plain.child.kill('SIGINT');
    expect((await plain.done).code).toBe(130);
  });

  it('vsexec run killed with SIGKILL: the kernel closes its connection and the agent kills the remote group', async () => {
    const { connect, stderr } = await agentProcess();
    const r = runCli(['run', '--connect', connect, '--', 'sh', '-c', 'sleep 1000 & echo "$$ $!"; wait']);
    let out = '';
    r.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /\d+ \d+/.test(out), 'the pids');
    const pids = out.trim().split(' ').map(Number);
    r.child.kill('SIGKILL');
    await waitFor(() => pids.every(isGone), 'the remote group to be killed');
    await waitFor(() => stderr().includes('the host went away'), 'the end line');
  });

  it('backpressure: cat /dev/zero | head -c 1G keeps both processes flat in memory', async () => {
    const { connect, pid: agentPid } = await agentProcess();
    const head = spawn('head', ['-c', String(1 << 30)], { stdio: ['pipe', 'pipe', 'inherit'] });
    onCleanup(() => head.exitCode === null && head.kill('SIGKILL'));
    let got = 0;
    head.stdout.on('data', (d: Buffer) => (got += d.length));
    const headClosed = new Promise((resolve) => head.once('close', resolve));
    const run = spawn(process.execPath, [path.join(import.meta.dirname, '../dist/cli.js'), 'run', '-n', '--connect', connect, '--', 'cat', '/dev/zero'], {
      stdio: ['ignore', head.stdin, 'pipe'],
    });
    onCleanup(() => run.exitCode === null && run.kill('SIGKILL'));
    let runPeak = 0;
    const sampler = setInterval(() => {
      try {
        runPeak = Math.max(runPeak, peakRss(run.pid!));
      } catch {
        // it has exited
      }
    }, 50);
    const code = await new Promise<number | null>((resolve) => run.once('exit', (c) => resolve(c)));
    clearInterval(sampler);
    await headClosed;
    expect(got).toBe(1 << 30);
    expect(code).toBe(141); // EPIPE after head had its gigabyte: reported as a SIGPIPE death, like a shell would
    const limit = 256 * 1024 * 1024; // a buffered gigabyte would be four times this
    expect(runPeak).toBeGreaterThan(0);
    expect(runPeak).toBeLessThan(limit);
    expect(peakRss(agentPid)).toBeLessThan(limit);
  }, 120_000);
});

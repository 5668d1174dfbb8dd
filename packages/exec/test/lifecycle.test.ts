/**
 * The life and death of remote commands: --timeout kills the whole process group, a forwarded
 * signal reaches it, the host closing its connection (or cancelling) kills what runs, and the
 * agent's refusals (wrong token, too many sessions) start nothing.
 */
import { describe, expect, it } from 'vitest';
import { ClientEngine, RpcError } from '@vsock-rpc/engine';
import { ExecClient, execRegistry } from '../src/index.js';
import { Collector, TRANSPORTS, connectClient, isGone, onCleanup, randomToken, startAgent, waitFor } from './helpers.js';

/** A shell that starts a background sleep, prints both pids, then waits: a group of two. */
const GROUP = ['sh', '-c', 'sleep 1000 & echo "$$ $!"; wait'];

function pidsOf(out: Collector): number[] {
  return out.text().trim().split(/\s+/).map(Number);
}

describe.each(TRANSPORTS)('lifecycle over %s', (transport) => {
  it('--timeout kills the whole process group: no process is left', async () => {
    const { connect, log } = await startAgent(transport);
    const client = await connectClient(connect);
    const out = new Collector();
    const status = await client.run({ argv: GROUP, timeoutMs: 1000, stdout: out, stderr: new Collector() }).exit;
    expect(status).toEqual({ signal: 'SIGKILL', timedOut: true, stdinDiscarded: 0 });
    const [shell, sleeper] = pidsOf(out);
    expect(() => process.kill(shell!, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' })); // the agent reaped its child
    await waitFor(() => isGone(sleeper!), 'the background sleep to be killed');
    expect(log.some((l) => /ended: signal SIGKILL \(timed out\)/.test(l))).toBe(true);
  });

  it('closing the connection kills the remote command and its group', async () => {
    const { connect, log } = await startAgent(transport);
    const client = await ExecClient.connect(connect);
    const out = new Collector();
    const cmd = client.run({ argv: GROUP, stdout: out, stderr: new Collector() });
    await waitFor(() => out.text().includes(' '), 'the pids');
    const pids = pidsOf(out);
    for (const p of pids) expect(isGone(p)).toBe(false);
    await client.close(100);
    await expect(cmd.exit).rejects.toBeInstanceOf(Error);
    await waitFor(() => pids.every(isGone), 'the group to be killed');
    await waitFor(() => log.some((l) => /the host went away: process group killed/.test(l)), 'the end line');
  });
});

describe('lifecycle', () => {
  it('a forwarded SIGINT reaches the group: a trap runs; an untrapped death is a signal status', async () => {
    const { connect } = await startAgent('unix');
    const client = await connectClient(connect);
    const out = new Collector();
    const trap = client.run({
      argv: ['sh', '-c', 'trap "echo got INT; exit 5" INT; echo ready; while :; do sleep 0.05; done'],
      stdout: out,
      stderr: new Collector(),
    });
    await waitFor(() => out.text().includes('ready'), 'the trap to be set');
    expect(await trap.signal('SIGINT')).toBe(true);
    expect(await trap.exit).toMatchObject({ code: 5 });
    expect(out.text()).toContain('got INT');
    const plain = client.run({ argv: ['sleep', '1000'], stdout: new Collector(), stderr: new Collector() });
    await plain.started;
    await plain.signal('SIGINT');
    expect(await plain.exit).toEqual({ signal: 'SIGINT', timedOut: false, stdinDiscarded: 0 });
  });

  it('cancelling a session kills its command', async () => {
    const { connect } = await startAgent('unix');
    const client = await connectClient(connect);
    const cmd = client.run({ argv: ['sleep', '1000'], stdout: new Collector(), stderr: new Collector() });
    const { pid } = await cmd.started;
    cmd.cancel();
    await expect(cmd.exit).rejects.toMatchObject({ code: 'CANCELLED' });
    await waitFor(() => isGone(pid), 'the sleep to be killed');
  });

  it('a wrong or missing token is refused before anything starts; the right one works', async () => {
    const token = randomToken();
    const { connect, agent, log } = await startAgent('tcp', { token });
    const client = await connectClient(connect);
    for (const given of [undefined, 'wrong', `${token}x`]) {
      const cmd = client.run({
        argv: ['touch', '/tmp/should-not-exist'],
        ...(given !== undefined && { token: given }),
        stdout: new Collector(),
        stderr: new Collector(),
      });
      const err = await cmd.exit.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RpcError);
      expect(err).toMatchObject({ code: 'PERMISSION_DENIED' });
    }
    expect(agent.stats()).toMatchObject({ started: 0, refused: 3 });
    expect(log.filter((l) => l.includes('refused a session') && l.includes('wrong or missing token'))).toHaveLength(3);
    expect(log.join('\n')).not.toContain('should-not-exist'); // nothing of a refused request is echoed
    const ok = await client.run({ argv: ['true'], token, stdout: new Collector(), stderr: new Collector() }).exit;
    expect(ok.code).toBe(0);
  });

  it('sessions beyond --max-sessions are refused with RESOURCE_EXHAUSTED, the others run', async () => {
    const { connect } = await startAgent('unix', { maxSessions: 2 });
    const client = await connectClient(connect);
    const running = [0, 1].map(() => client.run({ argv: ['sleep', '1000'], stdout: new Collector(), stderr: new Collector() }));
    await Promise.all(running.map((r) => r.started));
    const third = client.run({ argv: ['true'], stdout: new Collector(), stderr: new Collector() });
    await expect(third.exit).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    for (const r of running) await r.signal('SIGTERM');
    for (const r of running) expect(await r.exit).toMatchObject({ signal: 'SIGTERM' });
  });

  it('a signal names a session of its own connection only', async () => {
    const { connect } = await startAgent('unix');
    const a = await connectClient(connect);
    const cmd = a.run({ argv: ['sleep', '1000'], stdout: new Collector(), stderr: new Collector() });
    const { session, pid } = await cmd.started;
    const other = await ClientEngine.connect(connect, { registry: execRegistry, reconnect: false, logger: null, clock: false });
    onCleanup(() => other.close(100));
    await expect(other.call('signal', { session, signal: 'SIGKILL' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(isGone(pid)).toBe(false);
    await expect(a.run({ argv: ['true'], stdout: new Collector(), stderr: new Collector() }).signal('SIGNOPE' as NodeJS.Signals)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    cmd.cancel();
  });
});

/**
 * The CLI's manners: a mistake is one line and exit code 2 at once; waiting for a server says
 * so and is bounded by --connect-timeout; output files are checked before a run and a failed
 * write is exit code 1, never a "written" message.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuilt, run, start, until } from './helpers.js';

requireBuilt();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envtest-friendly-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');

describe('usage errors: exit 2 with one line', () => {
  it.each([
    [['client', '--connect', 'vsock://abc:1'], "--connect 'vsock://abc:1' is not an address"],
    [['client', '--connect', 'tcp://host:99999'], "--connect 'tcp://host:99999' is not an address"],
    [['server', '--listen', 'foo://x'], "--listen 'foo://x' is not an address"],
    [['client', '--rate', '-3'], "--rate must be a number ≥ 0.001 ≤ 1000000, got '-3'"],
    [['client', '--connect-timeout', 'soon'], '--connect-timeout must be'],
    [['server', '--duration', 'x'], '--duration must be'],
    [['client', '--clock-skew-ns', '-3.5'], "--clock-skew-ns must be an integer number of ns, got '-3.5'"],
  ])('envtest %j', async (args, message) => {
    const r = await run(args);
    expect(r.code, r.stderr).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(`envtest ${args[0]} --help`);
    expect(r.stdout).toBe('');
  });

  it('accepts negative numbers as values, with or without =', async () => {
    // Both forms get past parsing (the failure is the missing server, exit 1, not a usage error).
    for (const form of [['--clock-skew-ns', '-3000000000'], ['--clock-skew-ns=-3000000000']]) {
      const r = await run(['client', ...form, '--connect', `unix://${join(dir, 'none.sock')}`, '--connect-timeout', '0']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).not.toContain('ambiguous');
    }
  });
});

describe('connecting', () => {
  it('--connect-timeout 0: a refused connection fails at once, after one attempt, with the reason', async () => {
    const r = await run(['client', '--connect', 'tcp://127.0.0.1:1', '--connect-timeout', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ECONNREFUSED');
    expect(r.stderr).toContain('gave up after 1 attempt');
    expect(r.stderr).not.toContain('waiting for the server');
    expect(lines(r.stderr)).toHaveLength(1);
  });

  it('an unknown host fails at once: no retry can fix it', async () => {
    const r = await run(['client', '--connect', 'tcp://nonexistent.invalid:80']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ENOTFOUND');
    expect(r.stderr).not.toContain('waiting for the server');
  });

  it('shows each retry on stderr and gives up after --connect-timeout', async () => {
    const sock = join(dir, 'absent.sock');
    const r = await run(['client', '--connect', `unix://${sock}`, '--connect-timeout', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`waiting for the server at unix://${sock} \\(attempt 1, retrying in \\d+\\.\\d s\\): ENOENT`));
    expect(r.stderr).toMatch(/cannot connect to .*ENOENT.*gave up after \d+ attempts; --connect-timeout sets the limit/);
  });

  it('a client started before its server waits, says so, then delivers everything', async () => {
    const sock = join(dir, 'late.sock');
    const summary = join(dir, 'late-client.json');
    const client = start(['client', '--connect', `unix://${sock}`, '--count', '300', '--rate', '1000', '--clock-skew-ns', '-2000000000', '--summary', summary]);
    await until(() => client.stderr().includes('waiting for the server'), 20_000, 'a progress line');
    const server = start(['server', '--listen', `unix://${sock}`, '--quiet', '--rate', '0']);
    try {
      expect(await client.done, client.stderr()).toBe(0);
    } finally {
      server.child.kill('SIGINT');
      await server.done;
    }
    const s = JSON.parse(await readFile(summary, 'utf8')) as { events: { total: number }; details: { clockSkewNs: string } };
    expect(s.events.total).toBe(300);
    expect(s.details.clockSkewNs).toBe('-2000000000');
  });
});

describe('output files', () => {
  it.each([
    [
      ['server', '--listen', 'unix:///tmp/never.sock', '--duration', '30', '--export', '/nonexistent-dir/t.json'],
      '--export /nonexistent-dir/t.json: the directory /nonexistent-dir does not exist',
    ],
    [
      ['server', '--listen', 'unix:///tmp/never.sock', '--duration', '30', '--summary', '/nonexistent-dir/s.json'],
      '--summary /nonexistent-dir/s.json: the directory',
    ],
    [['demo', '--duration', '30', '--export', '/nonexistent-dir/t.json'], '--export /nonexistent-dir/t.json: the directory'],
    [['client', '--summary', '/tmp', '--connect', 'unix:///tmp/never.sock'], '--summary /tmp: it is a directory'],
  ])('envtest %j is refused before the run starts (exit 2)', async (args, message) => {
    const r = await run(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stdout).not.toContain('timeline written');
    expect(r.stderr).not.toContain('listening on');
  });

  it('an export that fails during the run stops the server with exit 1', async () => {
    const sock = join(dir, 'full.sock');
    const server = start(['server', '--listen', `unix://${sock}`, '--duration', '60', '--quiet', '--rate', '500', '--export', '/dev/full']);
    await until(() => server.stderr().includes('listening on'), 15_000, 'the server to listen');
    expect(await server.done, server.stderr()).toBe(1);
    expect(server.stderr()).toContain('cannot write --export /dev/full');
    expect(server.stderr()).toContain('ENOSPC');
  });

  it('envtest demo with a failing export exits 1 and never says the timeline was written', async () => {
    const r = await run(['demo', '--clients', '1', '--duration', '3', '--export', '/dev/full']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).not.toContain('timeline written');
    expect(r.stderr).toContain('cannot write --export /dev/full');
  });
});

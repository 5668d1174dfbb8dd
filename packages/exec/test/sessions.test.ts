/**
 * Sessions end to end over unix sockets, TCP 127.0.0.1 and hybrid vsock (through a muxer that
 * plays the VMM): separate stdout and stderr, the exit code, stdin with a checksum, env and cwd,
 * a command that cannot start, a pseudo-terminal with its window size, and many sessions at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Collector, TRANSPORTS, connectClient, startAgent, waitFor } from './helpers.js';

describe.each(TRANSPORTS)('sessions over %s', (transport) => {
  it("sh -c 'echo out; echo err >&2; exit 3': out on stdout, err on stderr, exit code 3", async () => {
    const { connect, log } = await startAgent(transport);
    const client = await connectClient(connect);
    const stdout = new Collector();
    const stderr = new Collector();
    const cmd = client.run({ argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'], stdout, stderr });
    const status = await cmd.exit;
    expect(status).toEqual({ code: 3, timedOut: false, stdinDiscarded: 0 });
    expect(stdout.text()).toBe('out\n');
    expect(stderr.text()).toBe('err\n');
    expect((await cmd.started).pid).toBeGreaterThan(1);
    expect(log.some((l) => /session \d+ from .*\["sh", "-c", "echo out; echo err >&2; exit 3"\]/.test(l))).toBe(true);
    expect(log.some((l) => /session \d+ ended: exit 3 after \d+ ms \(in 0 B, out 4 B, err 4 B\)/.test(l))).toBe(true);
  });

  it('stdin round trip: 8 MiB through cat, and its sha256 computed remotely', async () => {
    const { connect } = await startAgent(transport);
    const client = await connectClient(connect);
    const data = randomBytes(8 * 1024 * 1024);
    const chunks = () =>
      Readable.from(
        (function* () {
          for (let o = 0; o < data.length; o += 100_000) yield data.subarray(o, o + 100_000);
        })(),
      );
    const echoed = new Collector();
    const s1 = await client.run({ argv: ['cat'], stdin: chunks(), stdout: echoed, stderr: new Collector() }).exit;
    expect(s1.code).toBe(0);
    expect(echoed.bytes().equals(data)).toBe(true);
    const sum = new Collector();
    const s2 = await client.run({ argv: ['sha256sum'], stdin: chunks(), stdout: sum, stderr: new Collector() }).exit;
    expect(s2.code).toBe(0);
    expect(sum.text().split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
  });
});

describe('sessions', () => {
  it('passes env and cwd, and reports a command that cannot start as 127 with the reason', async () => {
    const { connect, log } = await startAgent('unix');
    const client = await connectClient(connect);
    const out = new Collector();
    const s = await client.run({ argv: ['sh', '-c', 'echo "$A|$B|$(pwd)"'], env: ['A=1', 'B=x=y'], cwd: '/', stdout: out, stderr: new Collector() }).exit;
    expect(s.code).toBe(0);
    expect(out.text()).toBe('1|x=y|/\n');
    const bad = await client.run({ argv: ['/no/such/command'], stdout: new Collector(), stderr: new Collector() }).exit;
    expect(bad).toMatchObject({ code: 127, timedOut: false });
    expect(bad.error).toMatch(/ENOENT/);
    expect(log.some((l) => /cannot start \["\/no\/such\/command"\]: .*ENOENT/.test(l))).toBe(true);
    const badCwd = await client.run({ argv: ['true'], cwd: '/no/such/dir', stdout: new Collector(), stderr: new Collector() }).exit;
    expect(badCwd).toMatchObject({ code: 127, error: 'working directory /no/such/dir does not exist or is not a directory' });
  });

  it('-t: a pseudo-terminal (tty prints /dev/pts/N), its size, and a resize from the host', async () => {
    const { connect } = await startAgent('unix');
    const client = await connectClient(connect);
    const out = new Collector();
    const stdin = new Readable({ read() {} });
    const cmd = client.run({
      argv: ['sh', '-c', 'tty; stty size; echo ready; read x; stty size'],
      tty: { size: { cols: 100, rows: 30 }, term: 'xterm' },
      stdin,
      stdout: out,
      stderr: new Collector(),
    });
    await waitFor(() => out.text().includes('ready'), 'the command to be ready');
    expect(await cmd.resize({ cols: 120, rows: 40 })).toBe(true);
    stdin.push('go\n');
    const status = await cmd.exit;
    expect(status.code).toBe(0);
    const lines = out.text().split(/\r?\n/);
    expect(lines[0]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(lines[1]).toBe('30 100');
    expect(lines).toContain('40 120');
  });

  it('many sessions at once: 20 on one connection and 20 on connections of their own', async () => {
    const { connect, agent } = await startAgent('unix');
    const shared = await connectClient(connect);
    const own = await Promise.all(Array.from({ length: 20 }, () => connectClient(connect)));
    const runs = [...Array.from({ length: 20 }, () => shared), ...own].map(async (client, i) => {
      const out = new Collector();
      const err = new Collector();
      const status = await client.run({ argv: ['sh', '-c', `sleep 0.2; echo "o$0"; echo "e$0" >&2; exit $(($0 % 7))`, String(i)], stdout: out, stderr: err })
        .exit;
      return { i, code: status.code, out: out.text(), err: err.text() };
    });
    const results = await Promise.all(runs);
    for (const r of results) expect(r).toEqual({ i: r.i, code: r.i % 7, out: `o${r.i}\n`, err: `e${r.i}\n` });
    expect(agent.stats()).toMatchObject({ started: 40, running: 0, refused: 0 });
  });
});

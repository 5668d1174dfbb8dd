import { describe, expect, it } from 'vitest';
import { requireBuilt, run } from './helpers.js';

requireBuilt();

describe('envtest CLI usage', () => {
  it('--help lists the commands; each command has its own --help', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['server', 'client', 'demo']) expect(top.stdout).toContain(c);
    const [server, client, demo] = await Promise.all([run(['server', '--help']), run(['client', '-h']), run(['demo', '--help'])]);
    expect(server.code).toBe(0);
    expect(server.stdout).toMatch(/^Usage: envtest server/);
    for (const f of ['--listen', '--metrics', '--export', '--duration', '--summary', '--allow-cid', '--rate']) expect(server.stdout).toContain(f);
    expect(server.stdout).toContain('vsock://any:11451');
    expect(client.code).toBe(0);
    for (const f of ['--connect', '--name', '--count', '--rate', '--duration', '--clock-skew-ns', '--summary']) expect(client.stdout).toContain(f);
    expect(client.stdout).toContain('vsock://2:11451');
    expect(demo.code).toBe(0);
    for (const f of ['--clients', '--duration']) expect(demo.stdout).toContain(f);
  });

  it('an unknown flag is a clear error with exit code 2', async () => {
    const r = await run(['server', '--listn', 'unix:///tmp/x.sock']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--listn'");
    expect(r.stderr).toContain('envtest server --help');
    expect(r.stdout).toBe('');
  });

  it('bad values and unknown commands exit 2 and say what was wrong', async () => {
    const [count, cmd, cid] = await Promise.all([run(['client', '--count', 'lots']), run(['serve']), run(['server', '--allow-cid', '3,x'])]);
    expect(count.code).toBe(2);
    expect(count.stderr).toContain("--count must be an integer ≥ 0, got 'lots'");
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("unknown command 'serve'");
    expect(cid.code).toBe(2);
    expect(cid.stderr).toContain('--allow-cid');
  });

  it('a server that cannot listen fails with exit code 1 and the reason', async () => {
    const r = await run(['server', '--listen', 'unix:///nonexistent-dir/x.sock', '--duration', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot listen on unix:\/\/\/nonexistent-dir\/x\.sock/);
  });
});

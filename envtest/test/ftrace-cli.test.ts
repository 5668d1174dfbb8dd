/**
 * --ftrace on the command line, the parts that never reach tracefs (this machine's tracefs is
 * never touched: the reader runs in the QEMU tier, test/vm/ftrace-e2e.vm.test.ts): malformed
 * specs and flag combinations are usage errors with exit code 2, and the help shows the flags.
 */
import { describe, expect, it } from 'vitest';
import { requireBuilt, run } from './helpers.js';

requireBuilt();

describe('envtest --ftrace usage', () => {
  it.each([
    [['server', '--ftrace', 'sched:', '--listen', 'unix:///tmp/never.sock'], /--ftrace: bad ftrace event spec "sched:"/],
    [['client', '--ftrace', 'nocolon', '--connect', 'unix:///tmp/never.sock'], /--ftrace: bad ftrace event spec/],
    [['server', '--ftrace-buffer-kb', '64'], /--ftrace-buffer-kb needs --ftrace/],
    [['client', '--ftrace', 'sched:sched_switch', '--ftrace-buffer-kb', '0'], /--ftrace-buffer-kb must be an integer ≥ 1/],
    [['server', '--ftrace', 'sched:sched_switch', '--wire', 'legacy'], /--ftrace needs the vsock-rpc wire/],
  ])('%j exits 2 with one line saying what is wrong', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('documents --ftrace and --ftrace-buffer-kb in both commands', async () => {
    for (const cmd of ['server', 'client']) {
      const r = await run([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/--ftrace EVENTS\s+trace these kernel events/);
      expect(r.stdout).toMatch(/--ftrace-buffer-kb KB/);
    }
  });
});

/**
 * The source's kernel-free parts: instance lifecycle on a plain directory standing in for
 * tracefs (stale-instance cleanup, name clashes), tracefs location errors, spec objects, the
 * comm lookup. The real kernel is exercised by test/vm/ftrace.vm.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FtraceError, FtraceSource } from '../src/index.js';
import { CommCache } from '../src/ftrace/comm-cache.js';
import { claimInstanceName, createInstance, defaultInstanceName, releaseInstanceName, removeStaleInstances } from '../src/ftrace/instance.js';
import { normaliseEventSpecs } from '../src/ftrace/spec.js';
import { locateTracefs } from '../src/ftrace/tracefs.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ftrace-unit-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A pid that is certainly dead: above the kernel's pid_max. */
const DEAD_PID = 4_194_304 + 17;

describe('instances', () => {
  it('removes vsock-rpc-<pid> instances of dead pids only', () => {
    const root = tmp();
    for (const n of [`vsock-rpc-${DEAD_PID}`, `vsock-rpc-${DEAD_PID}-2`, `vsock-rpc-${process.pid}`, 'vsock-rpc-1', 'someone-else', 'vsock-rpc-x'])
      mkdirSync(join(root, 'instances', n), { recursive: true });
    const warnings: string[] = [];
    expect(removeStaleInstances(root, (m) => warnings.push(m)).sort()).toEqual([`vsock-rpc-${DEAD_PID}`, `vsock-rpc-${DEAD_PID}-2`]);
    expect(warnings).toEqual([]);
    // pid 1 is alive, our own pid is ours, other names are not ours to touch
    expect(removeStaleInstances(root, () => {})).toEqual([]);
  });

  it('says which instance exists and how to remove it', () => {
    const root = tmp();
    mkdirSync(join(root, 'instances', 'taken'), { recursive: true });
    expect(() => createInstance(root, 'taken')).toThrow(FtraceError);
    try {
      createInstance(root, 'taken');
    } catch (e) {
      expect(e).toMatchObject({ code: 'INSTANCE_FAILED', path: join(root, 'instances', 'taken') });
      expect((e as Error).message).toContain(`rmdir ${join(root, 'instances', 'taken')}`);
    }
    expect(createInstance(root, 'fresh')).toBe(join(root, 'instances', 'fresh'));
  });

  it('gives a second source of the same process its own default name', () => {
    const first = defaultInstanceName();
    expect(first).toBe(`vsock-rpc-${process.pid}`);
    claimInstanceName(first);
    try {
      expect(defaultInstanceName()).toBe(`vsock-rpc-${process.pid}-2`);
    } finally {
      releaseInstanceName(first);
    }
    expect(defaultInstanceName()).toBe(first);
  });
});

describe('open() errors that need no kernel', () => {
  it('NO_TRACEFS for a tracefs option that is not a tracefs mount, naming it', async () => {
    const dir = tmp();
    await expect(locateTracefs(dir)).rejects.toMatchObject({ code: 'NO_TRACEFS', path: dir });
    if (process.geteuid?.() === 0) {
      await expect(FtraceSource.open({ events: ['sched:sched_switch'], tracefs: dir })).rejects.toMatchObject({
        name: 'FtraceError',
        code: 'NO_TRACEFS',
        message: expect.stringContaining(`${dir} is not a tracefs mount`),
      });
    } else {
      await expect(FtraceSource.open({ events: ['sched:sched_switch'], tracefs: dir })).rejects.toMatchObject({ code: 'NOT_ROOT' });
    }
  });

  it('BAD_EVENT_SPEC and INSTANCE_FAILED for bad options, before touching anything', async () => {
    await expect(FtraceSource.open({ events: ['nocolon'] })).rejects.toMatchObject({ code: 'BAD_EVENT_SPEC' });
    await expect(FtraceSource.open({ events: ['sched:sched_switch'], bufferKb: 0 })).rejects.toMatchObject({ code: 'INSTANCE_FAILED' });
    await expect(FtraceSource.open({ events: ['sched:sched_switch'], instance: '../escape' })).rejects.toMatchObject({ code: 'INSTANCE_FAILED' });
  });

  it('validates spec objects like text', () => {
    expect(
      normaliseEventSpecs([
        { system: 'irq', name: '*' },
        { system: 'sched', name: 'sched_switch', filter: ' prev_pid > 0 ' },
      ]),
    ).toEqual([
      { system: 'irq', name: '*' },
      { system: 'sched', name: 'sched_switch', filter: 'prev_pid > 0' },
    ]);
    expect(() => normaliseEventSpecs([{ system: '..', name: 'x' }])).toThrow(/BAD|bad ftrace event spec/);
    expect(() => normaliseEventSpecs([{ system: 'a', name: 'b', filter: 'x\ny' }])).toThrow(FtraceError);
    expect(() => normaliseEventSpecs([])).toThrow(FtraceError);
  });
});

describe('comm lookup', () => {
  it('reads saved_cmdlines, re-reads it once per poll for an unknown pid, then asks /proc', () => {
    const file = join(tmp(), 'saved_cmdlines');
    writeFileSync(file, '10 first\n');
    const c = new CommCache(file);
    c.beginPoll();
    expect(c.lookup(10)).toBe('first');
    expect(c.lookup(0)).toBe('<idle>');
    writeFileSync(file, '10 first\n11 second\n');
    expect(c.lookup(11)).toBe('<...>'); // this poll already read the file
    c.beginPoll();
    expect(c.lookup(11)).toBe('<...>'); // cached for this poll
    const c2 = new CommCache(file);
    c2.beginPoll();
    expect(c2.lookup(11)).toBe('second');
    expect(c2.lookup(process.pid)).toMatch(/^(node|vitest|.+)$/); // from /proc/<pid>/comm
    expect(c2.lookup(DEAD_PID)).toBe('<...>');
  });
});

/**
 * The ftrace reader (@vsock-rpc/trace FtraceSource) on a real kernel: the QEMU guest's, as root,
 * in one boot (guest/ftrace-check.mjs):
 *   1. markers: N trace_marker lines arrive exactly once, in order, with their text;
 *   2. against the real reader: the same events recorded into our instance and, at the same
 *      time, into `trace-cmd record -B`'s; every event `trace-cmd report -R -t` shows is looked
 *      up in ours by CPU, name, pid and every field value, and its comm compared; each instance
 *      stamps its own copy (our probe runs first), so the pairs' timestamps differ by the gap
 *      between the two probes (≥ 0: µs, ms when the TCG vCPU stalls). Ours must also equal the
 *      kernel's own text rendering of our buffer (count, order, pid, comm, µs timestamp);
 *   3. errors: unknown event, tracefs missing, not root (setpriv to uid 65534), bad filter give
 *      FtraceErrors naming the event or path; close() leaves no instance; an instance left by a
 *      SIGKILLed process is removed by the next open.
 * trace-cmd comes from Debian's package (scripts/ensure-trace-cmd.sh); without it case 2 is skipped.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInGuest, vmSupport, type RunInGuestResult } from './harness.js';

const vm = vmSupport();
const hasTraceCmd = existsSync('/usr/bin/trace-cmd');
if (!vm.available) console.warn(`ftrace.vm.test: skipped: ${vm.reason}`);
else if (!hasTraceCmd) console.warn('ftrace.vm.test: the trace-cmd comparison is skipped: no /usr/bin/trace-cmd (scripts/ensure-trace-cmd.sh)');

interface ErrorInfo {
  thrown: boolean;
  isFtraceError?: boolean;
  code?: string;
  message?: string;
  path?: string;
}

describe.skipIf(!vm.available)('ftrace reader on the guest kernel', () => {
  let r: RunInGuestResult;
  const result = <T = Record<string, unknown>>(name: string): T & { ok: boolean; error?: string } => {
    const v = r.results[name] as (T & { ok: boolean; error?: string }) | undefined;
    if (!v?.ok) console.log(r.console.slice(-6000));
    expect(v?.error).toBeUndefined();
    expect(v?.ok).toBe(true);
    return v!;
  };

  beforeAll(async () => {
    r = await runInGuest({
      commands: ['node test/vm/guest/ftrace-check.mjs'],
      timeoutMs: 300_000,
      env: hasTraceCmd ? {} : { FTRACE_SKIP_TRACECMD: '1' },
    });
    console.log(`ftrace.vm.test: guest run took ${r.durationMs} ms, exit codes ${r.exitCodes.join(',')}`);
  }, 330_000);

  it('markers: N lines arrive exactly once, in order, with their text; tracefs is mounted by open()', () => {
    const m = result<{
      mountedBefore: boolean;
      mountedAfter: boolean;
      n: number;
      received: number;
      firstWrong: number;
      outsideWrite: number;
      perCpuSorted: boolean;
      polls: number;
      switches: number;
      sample: string[];
      stats: { lost: number; badPages: number; undecodable: number };
      offPrints: number;
      offUndecodable: number;
      onlyEvents: string[];
      onlyNames: string[];
      leftInstances: string[];
      overflow: {
        written: number;
        delivered: number;
        newestDelivered: number;
        stats: { lost: number; perCpu: { overrun: number; missed: number; missedUncounted: number }[] };
      };
    }>('ftrace-markers');
    const o = m.overflow;
    console.log(
      `ftrace.vm.test overflow: ${o.written} markers into 16 KiB/CPU without reading: ${o.delivered} delivered (the newest: up to "flood ${o.newestDelivered}"), lost ${o.stats.lost}, per CPU ${JSON.stringify(o.stats.perCpu)}`,
    );
    expect(o.stats.lost).toBeGreaterThan(0);
    expect(o.delivered + o.stats.lost).toBe(o.written);
    expect(o.newestDelivered).toBe(o.written - 1); // overwrite mode keeps the newest
    console.log(
      `ftrace.vm.test markers: ${m.received}/${m.n} in order over ${m.polls} polls (+ close), ${m.outsideWrite} stamped outside their write(), ${m.switches} sched_switch alongside; first: ${m.sample.join(' | ')}`,
    );
    expect(m.mountedBefore).toBe(false);
    expect(m.mountedAfter).toBe(true);
    expect(m.received).toBe(m.n);
    expect(m.firstWrong).toBe(-1);
    // Each marker's timestamp lies between CLOCK_MONOTONIC readings taken around its write.
    expect(m.outsideWrite).toBe(0);
    expect(m.perCpuSorted).toBe(true);
    expect(m.switches).toBeGreaterThan(0);
    expect(m.stats).toMatchObject({ lost: 0, badPages: 0, undecodable: 0 });
    expect(m.offPrints).toBe(0);
    expect(m.offUndecodable).toBe(0);
    expect(m.onlyEvents).toEqual(['ftrace:print only a marker']);
    expect(m.onlyNames).toEqual(['ftrace:print']);
    expect(m.leftInstances).toEqual([]);
  });

  it.skipIf(!hasTraceCmd)('every event trace-cmd reports is in ours, identical; ours match the kernel text exactly', () => {
    const c = result<{
      tcCode: number;
      ours: number;
      theirs: number;
      unparsedReportLines: number;
      matched: number;
      fieldValues: number;
      missing: string[];
      theirOnly: number;
      oursOnly: number;
      oursInTheirWindow: number;
      oursOnlySample: string[];
      commDiff: string[];
      deltaNs: { min: number; p1: number; median: number; p99: number; max: number };
      oursByName: Record<string, number>;
      theirsByName: Record<string, number>;
      kernelTextEvents: number;
      kernelMismatch: string[];
      stats: { events: number; lost: number; badPages: number; undecodable: number };
      tcStats: string[];
      sampleSwitch: string[];
      sampleReport: string[];
      leftInstances: string[];
      tcInstanceLeft: boolean;
    }>('ftrace-compare');
    console.log(
      [
        `ftrace.vm.test compare: ours ${c.ours} events ${JSON.stringify(c.oursByName)}, trace-cmd ${c.theirs} ${JSON.stringify(c.theirsByName)}`,
        `  identical in ours: ${c.matched}/${c.theirs} trace-cmd events (${c.fieldValues} field values compared); ts(trace-cmd) - ts(ours): min ${c.deltaNs.min} median ${c.deltaNs.median} p99 ${c.deltaNs.p99} max ${c.deltaNs.max} ns`,
        `  not in ours: ${c.theirOnly}; ours in trace-cmd's window that it does not have: ${c.oursOnly} of ${c.oursInTheirWindow} (it enables its events one by one, and filters its own threads): ${c.oursOnlySample.slice(0, 2).join(' | ')}`,
        `  trace-cmd's buffer stats: ${c.tcStats.join(' ').replace(/\s+/g, ' ')}`,
        `  kernel text of our buffer: ${c.kernelTextEvents} events, mismatches: ${c.kernelMismatch.length}; our stats ${JSON.stringify(c.stats)}`,
        `  ours:`,
        ...c.sampleSwitch.map((l) => `    ${l}`),
        `  trace-cmd report:`,
        ...c.sampleReport.map((l) => `    ${l}`),
      ].join('\n'),
    );
    expect(c.tcCode).toBe(0);
    expect(c.theirs).toBeGreaterThan(1000);
    expect(c.unparsedReportLines).toBe(0);
    // Our reader gives exactly what the kernel put into our buffer (its own text rendering of it).
    expect(c.kernelMismatch).toEqual([]);
    expect(c.kernelTextEvents).toBe(c.ours);
    // Every trace-cmd event is in ours, identical (CPU, name, pid, every field value, comm).
    expect(c.missing).toEqual([]);
    expect(c.theirOnly).toBe(0);
    expect(c.commDiff).toEqual([]);
    expect(c.matched).toBe(c.theirs);
    // Correct pairs: each event is stamped by our probe first, then by trace-cmd's, on the same CPU.
    expect(c.deltaNs.min).toBeGreaterThanOrEqual(0);
    expect(c.deltaNs.max).toBeLessThan(50_000_000);
    expect(c.ours).toBeGreaterThanOrEqual(c.theirs);
    expect(c.stats).toMatchObject({ lost: 0, badPages: 0, undecodable: 0, events: c.ours });
    expect(c.leftInstances).toEqual([]);
    expect(c.tcInstanceLeft).toBe(false);
  });

  it('errors name the event or path; close() and the next open() leave no instance behind', () => {
    const e = result<{
      unknownEvent: ErrorInfo;
      unknownSystem: ErrorInfo;
      noTracefs: ErrorInfo;
      missingDir: ErrorInfo;
      badFilter: ErrorInfo;
      badSpec: ErrorInfo;
      notRoot: ErrorInfo & { uid?: number };
      afterErrors: string[];
      closeCheck: { existed: boolean; removed: boolean; secondClose: number };
      leftInstances: string[];
    }>('ftrace-errors');
    for (const [k, v] of Object.entries(e))
      if (typeof v === 'object' && v && 'message' in v) console.log(`ftrace.vm.test ${k}: [${String(v.code)}] ${String(v.message)}`);
    expect(e.unknownEvent).toMatchObject({
      thrown: true,
      isFtraceError: true,
      code: 'EVENT_NOT_FOUND',
      path: '/sys/kernel/tracing/events/sched/no_such_event/format',
    });
    expect(e.unknownEvent.message).toContain('sched:no_such_event');
    expect(e.unknownEvent.message).toContain('/sys/kernel/tracing/events/sched/no_such_event/format');
    expect(e.unknownSystem).toMatchObject({ thrown: true, code: 'EVENT_NOT_FOUND', path: '/sys/kernel/tracing/events/nosys' });
    expect(e.unknownSystem.message).toContain('nosys:foo');
    expect(e.noTracefs).toMatchObject({ thrown: true, isFtraceError: true, code: 'NO_TRACEFS' });
    expect(e.noTracefs.message).toMatch(/\/tmp\/no-tracefs-\w+ is not a tracefs mount/);
    expect(e.missingDir).toMatchObject({ thrown: true, code: 'NO_TRACEFS', path: '/nonexistent/tracing' });
    expect(e.badFilter).toMatchObject({ thrown: true, code: 'BAD_FILTER' });
    expect(e.badFilter.message).toContain('sched:sched_switch');
    expect(e.badFilter.message).toContain('prev_pid >>> 3');
    expect(e.badSpec).toMatchObject({ thrown: true, code: 'BAD_EVENT_SPEC' });
    expect(e.notRoot).toMatchObject({ thrown: true, uid: 65534, isFtraceError: true, code: 'NOT_ROOT' });
    expect(e.notRoot.message).toContain('/sys/kernel/tracing');
    expect(e.afterErrors).toEqual([]);
    expect(e.closeCheck).toEqual({ existed: true, removed: true, secondClose: 0 });
    expect(e.leftInstances).toEqual([]);
  });

  it('an instance left by a SIGKILLed process is removed by the next open', () => {
    const s = result<{ childInstance: string; leftAfterKill: boolean; removedByOpen: boolean; warnings: string[]; leftInstances: string[] }>('ftrace-stale');
    expect(s.childInstance).toMatch(/\/instances\/vsock-rpc-\d+$/);
    expect(s.leftAfterKill).toBe(true);
    expect(s.removedByOpen).toBe(true);
    expect(s.warnings).toEqual([]);
    expect(s.leftInstances).toEqual([]);
  });

  it('the guest script exits 0', () => {
    expect(r.exitCodes).toEqual([0]);
  });
});

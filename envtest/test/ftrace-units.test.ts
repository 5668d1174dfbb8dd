/**
 * The envtest side of --ftrace without a kernel (issue 14): FtraceEvent → trace event within the
 * schema's bounds, one timestamp order out of per-CPU streams, the book of losses (measured vs
 * claimed, bounded), the metrics and the status line. The reader itself runs in the QEMU tier.
 */
import { describe, expect, it } from 'vitest';
import { MAX_FIELDS, MAX_TEXT_LENGTH, type FtraceEvent, type FtraceStats, type TraceEvent } from '@vsock-rpc/trace';
import { Value } from '@sinclair/typebox/value';
import { TraceEvent as TraceEventSchema } from '@vsock-rpc/trace';
import { afterStart, fromFtraceEvent, statsEvents, FtraceFieldNames, FTRACE_STATS_KIND, type CpuCounters, type HookEvent } from '../src/ftrace/convert.js';
import { Reorder } from '../src/ftrace/reorder.js';
import { FtraceLosses, MAX_FTRACE_KINDS, MAX_FTRACE_SOURCES } from '../src/ftrace/losses.js';
import { envtestRegistry } from '../src/envtest-metrics.js';
import { StatusLine } from '../src/status.js';
import { Timeline } from '@vsock-rpc/trace';

function fev(ts: bigint, cpu: number, system: string, name: string, fields: FtraceEvent['fields']): FtraceEvent {
  return { ts, cpu, pid: 42, comm: 'bash', system, name, fields };
}

const asTrace = (source: string, seq: number, h: HookEvent): TraceEvent => ({
  source,
  seq,
  ts: h.ts,
  origTs: h.ts,
  errorBoundNs: 0n,
  kind: h.kind,
  ...(h.text !== undefined ? { text: h.text } : {}),
  ...(h.fields !== undefined ? { fields: h.fields } : {}),
});

describe('fromFtraceEvent', () => {
  it('makes a sched_switch a `sched:sched_switch` event with the header and every field, on the hook clock', () => {
    const e = fev(1_000n, 1, 'sched', 'sched_switch', {
      prev_comm: 'bash',
      prev_pid: 42,
      prev_prio: 120,
      prev_state: 1,
      next_comm: 'node',
      next_pid: 7,
      next_prio: 120,
    });
    const h = fromFtraceEvent(e, 500n);
    expect(h.ts).toBe(1_500n);
    expect(h.kind).toBe('sched:sched_switch');
    expect(h.text).toBeUndefined();
    expect(h.fields).toEqual({
      common_cpu: 1,
      common_pid: 42,
      common_comm: 'bash',
      prev_comm: 'bash',
      prev_pid: 42,
      prev_prio: 120,
      prev_state: 1,
      next_comm: 'node',
      next_pid: 7,
      next_prio: 120,
    });
    expect(Value.Check(TraceEventSchema, asTrace('g', 0, h))).toBe(true);
  });

  it('keeps an event field called pid or comm apart from the header (sched_waking names the woken task so)', () => {
    const h = fromFtraceEvent(fev(1n, 0, 'sched', 'sched_waking', { comm: 'worker', pid: 99, prio: 120, target_cpu: 1 }), 0n);
    expect(h.fields).toMatchObject({ common_pid: 42, common_comm: 'bash', pid: 99, comm: 'worker' });
  });

  it('gives a marker its line as text', () => {
    const h = fromFtraceEvent(fev(5n, 0, 'ftrace', 'print', { ip: 0, buf: 'step 3' }), 0n);
    expect(h.kind).toBe('ftrace:print');
    expect(h.text).toBe('step 3');
    expect(h.fields).toEqual({ common_cpu: 0, common_pid: 42, common_comm: 'bash', ip: 0 });
  });

  it('stays within the schema: arrays as text, long strings cut, at most MAX_FIELDS with the rest counted, bigints kept', () => {
    const fields: FtraceEvent['fields'] = { arr: [1, 2, 3], long: 'x'.repeat(MAX_TEXT_LENGTH + 10), big: 2n ** 63n - 1n, ['n'.repeat(80)]: 1 };
    for (let i = 0; i < 20; i++) fields[`f${i}`] = i;
    const h = fromFtraceEvent(fev(1n, 0, 'x', 'y', fields), 0n);
    expect(Object.keys(h.fields!)).toHaveLength(MAX_FIELDS);
    expect(h.fields!['arr']).toBe('[1,2,3]');
    expect((h.fields!['long'] as string).length).toBe(MAX_TEXT_LENGTH);
    expect(h.fields!['big']).toBe(2n ** 63n - 1n);
    // 24 event fields, 12 fit (3 header slots + 1 for the count): 12 omitted, the 80-char name among them.
    expect(h.fields![FtraceFieldNames.omitted]).toBe(12);
    expect(Value.Check(TraceEventSchema, asTrace('g', 0, h))).toBe(true);
  });
});

describe('statsEvents', () => {
  const stats = (lost: number): FtraceStats => ({
    events: 10,
    lost,
    badPages: 0,
    undecodable: 0,
    perCpu: [
      { cpu: 0, events: 5, overrun: lost, dropped: 0, missed: lost, badPages: 0, missedUncounted: 0, undecodable: 0, lost },
      { cpu: 1, events: 5, overrun: 0, dropped: 0, missed: 0, badPages: 0, missedUncounted: 0, undecodable: 0, lost: 0 },
    ],
  });
  it('reports each CPU once, then only the CPUs whose counters moved, and all of them at the end', () => {
    const last = new Map<number, CpuCounters>();
    expect(statsEvents(stats(0), 1n, last).map((e) => e.fields![FtraceFieldNames.cpu])).toEqual([0, 1]);
    expect(statsEvents(stats(0), 2n, last)).toEqual([]);
    const moved = statsEvents(stats(3), 3n, last);
    expect(moved).toHaveLength(1);
    expect(moved[0]).toMatchObject({ ts: 3n, kind: FTRACE_STATS_KIND, fields: { common_cpu: 0, lost: 3, overrun: 3, missed: 3, events: 5 } });
    expect(statsEvents(stats(3), 4n, last, true)).toHaveLength(2);
  });
});

describe('afterStart', () => {
  it('takes the events read before the start out of the per-CPU and total counts, keeping the losses', () => {
    const s: FtraceStats = {
      events: 30,
      lost: 2,
      badPages: 0,
      undecodable: 0,
      perCpu: [
        { cpu: 0, events: 10, overrun: 2, dropped: 0, missed: 0, badPages: 0, missedUncounted: 0, undecodable: 0, lost: 2 },
        { cpu: 1, events: 20, overrun: 0, dropped: 0, missed: 0, badPages: 0, missedUncounted: 0, undecodable: 0, lost: 0 },
      ],
    };
    const a = afterStart(s, new Map([[1, 15]]));
    expect(a.events).toBe(15);
    expect(a.perCpu.map((c) => [c.cpu, c.events, c.lost])).toEqual([
      [0, 10, 2],
      [1, 5, 0],
    ]);
    expect(afterStart(s, new Map())).toBe(s);
  });
});

describe('Reorder', () => {
  const h = (ts: number, cpu = 0): HookEvent => ({ ts: BigInt(ts), kind: 'k', text: undefined, fields: { common_cpu: cpu } });
  it('merges per-CPU streams and releases only what the watermark passed, in order', () => {
    const r = new Reorder();
    r.push([h(10, 0), h(30, 0), h(50, 0), h(20, 1), h(40, 1)]);
    const a = r.release(35n);
    expect(a.events.map((e) => Number(e.ts))).toEqual([10, 20, 30]);
    expect(a.watermark).toBe(35n);
    r.push([h(45, 0), h(60, 1)]);
    expect(r.release(100n).events.map((e) => Number(e.ts))).toEqual([40, 45, 50, 60]);
    expect(r.stats()).toEqual({ pending: 0, late: 0, forced: 0, maxLateNs: 0n });
  });

  it('never lowers its watermark, and counts an event committed below it (released at once)', () => {
    const r = new Reorder();
    r.push([h(10)]);
    r.release(50n);
    r.push([h(40), h(60)]);
    const b = r.release(20n);
    expect(b.watermark).toBe(50n);
    expect(b.events.map((e) => Number(e.ts))).toEqual([40]);
    expect(r.stats()).toMatchObject({ late: 1, maxLateNs: 10n });
  });

  it('is bounded: past maxPending the oldest go out early, counted, and the watermark follows them', () => {
    const r = new Reorder(2);
    r.push([h(1), h(2), h(3), h(4), h(5)]);
    const out = r.release(0n);
    expect(out.events.map((e) => Number(e.ts))).toEqual([1, 2, 3]);
    expect(out.watermark).toBe(3n);
    expect(r.stats()).toMatchObject({ pending: 2, forced: 3 });
    expect(r.releaseAll(0n).events.map((e) => Number(e.ts))).toEqual([4, 5]);
  });
});

describe('FtraceLosses', () => {
  const sw = (source: string, cpu: number) => asTrace(source, 0, fromFtraceEvent(fev(1n, cpu, 'sched', 'sched_switch', { next_comm: 'a' }), 0n));
  const lossEvent = (source: string, cpu: number, lost: number) =>
    asTrace(source, 0, {
      ts: 1n,
      kind: FTRACE_STATS_KIND,
      text: undefined,
      fields: { common_cpu: cpu, events: 2, lost, overrun: lost, dropped: 0, missed: 0, badPages: 0, undecodable: 0 },
    });

  it("counts arrivals per source, kind and CPU, and keeps the host's losses measured and a guest's as its claim", () => {
    const book = new FtraceLosses('host');
    book.observe([
      sw('host', 0),
      sw('host', 1),
      sw('host', 1),
      sw('g1', 0),
      lossEvent('host', 1, 4),
      lossEvent('g1', 0, 7),
      asTrace('host', 9, { ts: 1n, kind: 'message', text: 'x', fields: undefined }),
    ]);
    const s = book.summary();
    expect(s['host']).toMatchObject({ losses: 'measured', events: { 'sched:sched_switch': 3 }, total: 3, lost: 4 });
    expect(s['host']!.perCpu.map((c) => [c.cpu, c.arrived, c.lost])).toEqual([
      [0, 1, 0],
      [1, 2, 4],
    ]);
    expect(s['g1']).toMatchObject({ losses: 'claim', total: 1, lost: 7 });
    expect(book.statusPart()).toBe('ftrace lost host 4 · g1 7 (claim)');
  });

  it('bounds what a guest can grow: sources, kinds, CPUs, counter values', () => {
    const book = new FtraceLosses('host');
    for (let i = 0; i < MAX_FTRACE_SOURCES + 10; i++) book.observe([sw(`g${i}`, 0)]);
    for (let k = 0; k < MAX_FTRACE_KINDS + 10; k++) book.observe([{ ...sw('g0', 0), kind: `a:k${k}` }]);
    book.observe([lossEvent('g0', 1e6, 5), { ...lossEvent('g0', 0, 0), fields: { common_cpu: 0, lost: 1e300, events: -5 } }]);
    const s = book.summary();
    expect(Object.keys(s)).toHaveLength(MAX_FTRACE_SOURCES + 1);
    expect(s['(other sources)']!.total).toBe(10);
    expect(Object.keys(s['g0']!.events)).toHaveLength(MAX_FTRACE_KINDS + 1);
    expect(s['g0']!.perCpu.map((c) => c.cpu)).toEqual([0]);
    expect(s['g0']!.perCpu[0]).toMatchObject({ lost: 1e12, events: 0 });
  });
});

describe('metrics and status line with ftrace', () => {
  it('publishes arrivals per source and CPU, host losses measured and guest losses as a separate claimed series, CPU labels bounded', async () => {
    const book = new FtraceLosses('host');
    const sw = (source: string, cpu: number) => asTrace(source, 0, fromFtraceEvent(fev(1n, cpu, 'sched', 'sched_switch', {}), 0n));
    book.observe([sw('host', 0), sw('g1', 200), sw('g1', 100)]);
    book.observe([asTrace('host', 0, { ts: 1n, kind: FTRACE_STATS_KIND, text: undefined, fields: { common_cpu: 0, lost: 3, badPages: 1 } })]);
    book.observe([asTrace('g1', 0, { ts: 1n, kind: FTRACE_STATS_KIND, text: undefined, fields: { common_cpu: 100, lost: 9 } })]);
    const timeline = new Timeline({});
    const reg = envtestRegistry({ timeline: () => timeline.stats(), dropped: () => ({}), exported: () => 0, ftrace: () => book });
    const text = await reg.metrics();
    expect(text).toMatch(/^envtest_ftrace_events_total\{source="host",cpu="0"\} 1$/m);
    // cpu 100 and 200 (beyond the label bound) share one series.
    expect(text).toMatch(/^envtest_ftrace_events_total\{source="g1",cpu="other"\} 2$/m);
    expect(text).toMatch(/^envtest_ftrace_lost_events_total\{source="host",cpu="0"\} 3$/m);
    expect(text).toMatch(/^envtest_ftrace_bad_pages_total\{source="host",cpu="0"\} 1$/m);
    expect(text).not.toMatch(/^envtest_ftrace_lost_events_total\{source="g1"/m);
    expect(text).toMatch(/^envtest_guest_reported_ftrace_lost_events\{source="g1",cpu="other"\} 9$/m);
    timeline.close();
  });

  it('shows the losses on the status line', () => {
    const timeline = new Timeline({});
    const line = new StatusLine().format(timeline.stats(), 0, false, 'ftrace lost host 0 · g1 7 (claim)');
    expect(line).toContain('│ ftrace lost host 0 · g1 7 (claim)');
    timeline.close();
  });
});

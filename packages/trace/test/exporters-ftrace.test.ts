/**
 * Kernel events on the exports (issue 14): per-source CPU tracks, sched_switch as running-task
 * slices, other kernel events as instants with their fields, loss reports as counters; JSONL
 * keeps every field.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CPU_FIELD, JsonlExporter, PerfettoExporter, parseJsonLine, type TraceEvent, type TraceFields } from '../src/index.js';
import { ev } from './helpers.js';

interface TEv {
  ph: string;
  name: string;
  cat?: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  args: Record<string, unknown> & { fields?: Record<string, unknown> };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exporters-ftrace-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A sched_switch on `cpu` to task `next`. */
function sw(source: string, seq: number, ts: number, cpu: number, prev: [string, number], next: [string, number]): TraceEvent {
  const fields: TraceFields = {
    [CPU_FIELD]: cpu,
    common_pid: prev[1],
    common_comm: prev[0],
    prev_comm: prev[0],
    prev_pid: prev[1],
    prev_prio: 120,
    prev_state: 1,
    next_comm: next[0],
    next_pid: next[1],
    next_prio: 120,
  };
  return ev(source, seq, ts, { kind: 'sched:sched_switch', fields });
}

async function perfetto(events: TraceEvent[]): Promise<TEv[]> {
  const path = join(dir, `t${Math.random()}.json`);
  const x = new PerfettoExporter({ output: path, sourceOrder: ['host'] });
  x.write(events);
  await x.close();
  return (JSON.parse(await readFile(path, 'utf8')) as { traceEvents: TEv[] }).traceEvents;
}

describe('PerfettoExporter with kernel events', () => {
  it('gives each source its own CPU tracks and turns sched_switch into slices of the running task', async () => {
    const events = [
      sw('host', 0, 1_000, 0, ['swapper/0', 0], ['bash', 100]),
      sw('guest', 0, 1_500, 0, ['swapper/0', 0], ['node', 7]),
      sw('host', 1, 2_000, 1, ['swapper/1', 0], ['kworker/1:0', 30]),
      sw('host', 2, 4_000, 0, ['bash', 100], ['swapper/0', 0]),
      ev('host', 3, 4_500, { kind: 'irq:irq_handler_entry', fields: { [CPU_FIELD]: 1, common_pid: 30, common_comm: 'kworker/1:0', irq: 11, name: 'virtio0' } }),
      ev('guest', 1, 5_000, { kind: 'ftrace:print', text: 'step 3', fields: { [CPU_FIELD]: 0, common_pid: 7, common_comm: 'node', ip: 0 } }),
      ev('host', 4, 6_000, { text: 'a random host event' }),
      ev('guest', 2, 7_000, { kind: 'ftrace:stats', fields: { [CPU_FIELD]: 0, events: 3, lost: 2, overrun: 2, dropped: 0, missed: 2, badPages: 1 } }),
    ];
    const t = await perfetto(events);
    const procs = new Map(t.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => [e.args['name'] as string, e.pid]));
    expect([...procs.keys()].sort()).toEqual(['guest', 'host']);
    const cpuTrack = (source: string, cpu: number) =>
      t.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === procs.get(source) && e.args['name'] === `cpu ${cpu}`)?.tid;
    const host0 = cpuTrack('host', 0)!;
    const host1 = cpuTrack('host', 1)!;
    const guest0 = cpuTrack('guest', 0)!;
    expect(new Set([host0, host1, guest0, procs.get('host'), procs.get('guest')]).size).toBe(5);
    // Each CPU track has its own metadata exactly once.
    expect(t.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.tid === host0)).toHaveLength(1);

    const slices = t.filter((e) => e.ph === 'X');
    const on = (tid: number) => slices.filter((e) => e.tid === tid).sort((a, b) => a.ts! - b.ts!);
    // host cpu0: bash from 1 µs to the next switch at 4 µs, then swapper/0 to the end of the trace (7 µs).
    expect(on(host0).map((e) => [e.name, e.ts, e.dur])).toEqual([
      ['bash', 1, 3],
      ['swapper/0', 4, 3],
    ]);
    expect(on(host0)[0]!.args.fields).toMatchObject({ next_comm: 'bash', next_pid: 100, prev_comm: 'swapper/0', prev_state: 1 });
    expect(on(host0)[0]!.cat).toBe('sched:sched_switch');
    expect(on(host1).map((e) => [e.name, e.ts, e.dur])).toEqual([['kworker/1:0', 2, 5]]);
    expect(on(guest0).map((e) => [e.name, e.ts, e.dur])).toEqual([['node', 1.5, 5.5]]);
    // No sched_switch is lost or doubled: one slice per switch.
    expect(slices).toHaveLength(4);

    // Other kernel events: instants on their CPU's track, fields as args.
    const irq = t.find((e) => e.cat === 'irq:irq_handler_entry')!;
    expect(irq).toMatchObject({ ph: 'i', tid: host1, name: 'irq:irq_handler_entry', ts: 4.5 });
    expect(irq.args.fields).toMatchObject({ irq: 11, name: 'virtio0' });
    const marker = t.find((e) => e.cat === 'ftrace:print')!;
    expect(marker).toMatchObject({ ph: 'i', tid: guest0, name: 'step 3' });
    // A non-kernel event stays on its source's main track.
    expect(t.find((e) => e.name === 'a random host event')).toMatchObject({ ph: 'i', tid: procs.get('host') });
    // A loss report becomes a counter on the source's process.
    expect(t.find((e) => e.ph === 'C')).toMatchObject({ name: 'ftrace cpu0', pid: procs.get('guest'), args: { lost: 2, badPages: 1 } });
  });

  it('ends a slice at the next switch even when that arrives in a later batch, and keeps the file valid', async () => {
    const path = join(dir, 'batches.json');
    const x = new PerfettoExporter({ output: path });
    x.write([sw('g', 0, 10_000, 3, ['a', 1], ['b', 2])]);
    x.write([ev('g', 1, 12_000)]);
    x.write([sw('g', 2, 15_000, 3, ['b', 2], ['c', 3])]);
    await x.close();
    const t = (JSON.parse(await readFile(path, 'utf8')) as { traceEvents: TEv[] }).traceEvents;
    expect(t.filter((e) => e.ph === 'X').map((e) => [e.name, e.ts, e.dur])).toEqual([
      ['b', 10, 5],
      ['c', 15, 0],
    ]);
  });

  it('puts a CPU index beyond the track bound on the main track rather than growing tracks', async () => {
    const t = await perfetto([
      ev('g', 0, 1_000, { kind: 'x:y', fields: { [CPU_FIELD]: 1e9 } }),
      ev('g', 1, 2_000, { kind: 'x:y', fields: { [CPU_FIELD]: -1 } }),
    ]);
    const pid = t.find((e) => e.ph === 'M' && e.name === 'process_name')!.pid;
    expect(t.filter((e) => e.ph === 'i').map((e) => e.tid)).toEqual([pid, pid]);
    expect(t.filter((e) => e.ph === 'M' && e.name === 'thread_name')).toHaveLength(1);
  });
});

describe('JsonlExporter with kernel events', () => {
  it('carries every field of a kernel event', async () => {
    const path = join(dir, 'k.jsonl');
    const x = new JsonlExporter({ output: path });
    const e = sw('guest', 5, 123_456_789_012_345_678n as unknown as number, 1, ['bash', 100], ['node', 7]);
    e.fields!['big'] = 2n ** 60n;
    x.write([e]);
    await x.close();
    const back = parseJsonLine((await readFile(path, 'utf8')).trim());
    expect(back.kind).toBe('sched:sched_switch');
    expect(back.ts).toBe(123_456_789_012_345_678n);
    expect(back.fields).toEqual({ ...e.fields, big: (2n ** 60n).toString() });
  });
});

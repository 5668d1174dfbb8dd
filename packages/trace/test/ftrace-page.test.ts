import { describe, expect, it } from 'vitest';
import { FtracePageParser, parseFormatFile, parseRingBufferPage, type FtraceEvent, type FtraceEventFormat } from '../src/index.js';
import { buildPage, encodeEvent } from './ftrace-helpers.js';

const SWITCH = parseFormatFile(
  `name: sched_switch
ID: 319
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:1;
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;
\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:1;
\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;

print fmt: "prev_comm=%s", REC->prev_comm
`,
  'sched',
)!;
const PRINT = parseFormatFile(
  `name: print
ID: 5
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;
\tfield:char buf[];\toffset:16;\tsize:0;\tsigned:1;

print fmt: "%ps: %s", (void *)REC->ip, REC->buf
`,
  'ftrace',
)!;
const FORMATS: FtraceEventFormat[] = [SWITCH, PRINT];

function sw(pid: number, next: number, state = 1): Buffer {
  return encodeEvent(SWITCH, pid, {
    prev_comm: `p${pid}`,
    prev_pid: pid,
    prev_prio: 120,
    prev_state: state,
    next_comm: `p${next}`,
    next_pid: next,
    next_prio: 100,
  });
}
function mark(text: string, pid = 7): Buffer {
  return encodeEvent(PRINT, pid, { ip: 0xffffffff81000000n, buf: `${text}\n` });
}
function parse(page: Buffer, length?: number): { events: FtraceEvent[]; r: ReturnType<FtracePageParser['parse']> } {
  const events: FtraceEvent[] = [];
  const r = new FtracePageParser(FORMATS, { comm: (pid) => `c${pid}` }).parse(page, 3, events, length);
  return { events, r };
}

describe('ring-buffer page parser (synthetic pages)', () => {
  it('decodes data events of both header forms with every field type of sched_switch and markers', () => {
    const long = 'x'.repeat(200);
    const page = buildPage({
      ts: 1_000_000n,
      items: [
        { kind: 'data', delta: 10, data: sw(1, 2) },
        { kind: 'data', delta: 5, data: sw(2, 1, 0), long: true },
        { kind: 'data', delta: 7, data: mark('hello wörld') },
        { kind: 'data', delta: 1, data: mark(long) },
      ],
    });
    const { events, r } = parse(page);
    expect(r).toMatchObject({ events: 4, missed: 0, undecodable: 0 });
    expect(r.error).toBeUndefined();
    expect(events.map((e) => e.ts)).toEqual([1_000_010n, 1_000_015n, 1_000_022n, 1_000_023n]);
    expect(events[0]).toEqual({
      ts: 1_000_010n,
      cpu: 3,
      pid: 1,
      comm: 'c1',
      system: 'sched',
      name: 'sched_switch',
      fields: { prev_comm: 'p1', prev_pid: 1, prev_prio: 120, prev_state: 1, next_comm: 'p2', next_pid: 2, next_prio: 100 },
    });
    expect(events[1]!.fields.prev_state).toBe(0);
    expect(events[2]).toMatchObject({ system: 'ftrace', name: 'print', pid: 7, fields: { ip: 0xffffffff81000000n, buf: 'hello wörld' } });
    expect(events[3]!.fields.buf).toBe(long);
  });

  it('adds TIME_EXTEND deltas (also beyond 2^53 in total) and takes TIME_STAMP as absolute with the page MSBs', () => {
    const pageTs = (0x08n << 56n) | 5_000n; // top 5 bits set: an absolute stamp takes them from here
    const page = buildPage({
      ts: pageTs,
      items: [
        { kind: 'extend', delta: 3n << 27n },
        { kind: 'data', delta: 2, data: sw(1, 2) },
        { kind: 'extend', delta: (1n << 58n) + 9n },
        { kind: 'data', delta: 0, data: sw(2, 3) },
        { kind: 'stamp', ts: 123_456_789_012n },
        { kind: 'data', delta: 4, data: sw(3, 4) },
      ],
    });
    const { events, r } = parse(page);
    expect(r.error).toBeUndefined();
    const first = pageTs + (3n << 27n) + 2n;
    expect(events.map((e) => e.ts)).toEqual([first, first + (1n << 58n) + 9n, (0x08n << 56n) + 123_456_789_012n + 4n]);
  });

  it('skips padding: a discarded event keeps its delta, delta-0 padding ends the page', () => {
    const page = buildPage({
      ts: 100n,
      items: [
        { kind: 'data', delta: 1, data: sw(1, 2) },
        { kind: 'discard', delta: 50, bytes: 64 },
        { kind: 'data', delta: 2, data: sw(2, 1) },
        { kind: 'end' },
        { kind: 'data', delta: 1, data: sw(9, 9) },
      ],
    });
    const { events, r } = parse(page);
    expect(r.error).toBeUndefined();
    expect(events.map((e) => [e.ts, e.pid])).toEqual([
      [101n, 1],
      [153n, 2],
    ]);
  });

  it('reports missed events: the stored count, or 1 and uncounted without it', () => {
    const items = [{ kind: 'data' as const, delta: 1, data: sw(1, 2) }];
    expect(parse(buildPage({ ts: 1n, items, missed: { stored: 4242 } })).r).toMatchObject({ events: 1, missed: 4242, missedUncounted: false });
    expect(parse(buildPage({ ts: 1n, items, missed: {} })).r).toMatchObject({ events: 1, missed: 1, missedUncounted: true });
    expect(parse(buildPage({ ts: 1n, items })).r).toMatchObject({ missed: 0, missedUncounted: false });
  });

  it('an empty page (commit 0) gives nothing and no error', () => {
    expect(parse(buildPage({ ts: 1n, items: [] })).r).toEqual({ events: 0, missed: 0, missedUncounted: false, undecodable: 0 });
  });

  it('counts unknown ids and events shorter than their format as undecodable, keeps the rest', () => {
    const unknown = Buffer.alloc(16);
    unknown.writeUInt16LE(999, 0);
    const short = sw(1, 2).subarray(0, 32); // cut before prev_state
    const page = buildPage({
      ts: 0n,
      items: [
        { kind: 'data', delta: 1, data: unknown },
        { kind: 'data', delta: 1, data: short },
        { kind: 'data', delta: 1, data: sw(5, 6) },
      ],
    });
    const { events, r } = parse(page);
    expect(r).toMatchObject({ events: 1, undecodable: 2, undecodableId: 999 });
    expect(events[0]).toMatchObject({ pid: 5, ts: 3n });
  });

  it('ignores the ids it is told to ignore without counting them', () => {
    const page = buildPage({ ts: 0n, items: [{ kind: 'data', delta: 1, data: mark('x') }] });
    const events: FtraceEvent[] = [];
    const r = new FtracePageParser([SWITCH], { ignoreIds: [PRINT.id] }).parse(page, 0, events);
    expect(r).toMatchObject({ events: 0, undecodable: 0 });
  });

  it('skips truncated and corrupt pages whole, with a reason, and never throws', () => {
    const good = buildPage({
      ts: 0n,
      items: [
        { kind: 'data', delta: 1, data: sw(1, 2) },
        { kind: 'data', delta: 1, data: sw(2, 1) },
      ],
    });
    const cases: [string, Buffer, number | undefined, RegExp][] = [
      ['shorter than the header', good, 10, /shorter than its 16-byte header/],
      ['commit beyond what was read', good, 40, /only 24 were read/],
      ['commit past the page', buildPage({ ts: 0n, items: [], commit: 5000 }), undefined, /5000 bytes of data/],
      ['event past the commit', buildPage({ ts: 0n, items: [{ kind: 'data', delta: 1, data: sw(1, 2) }], commit: 40 }), undefined, /runs past the data end/],
      ['length word below 4', buildPage({ ts: 0n, items: [{ kind: 'raw', words: [0, 2] }] }), undefined, /has length 2/],
      ['cut time extend', buildPage({ ts: 0n, items: [{ kind: 'raw', words: [30] }] }), undefined, /time extend .* is cut/],
      ['padding past the end', buildPage({ ts: 0n, items: [{ kind: 'raw', words: [29 | (1 << 5), 4000] }] }), undefined, /padding .* runs past/],
      ['header cut', buildPage({ ts: 0n, items: [{ kind: 'data', delta: 1, data: sw(1, 2) }], commit: 70 }), undefined, /runs past the data end/],
    ];
    for (const [what, page, length, reason] of cases) {
      const { events, r } = parse(page, length);
      expect(events, what).toEqual([]);
      expect(r.error, what).toMatch(reason);
      expect(r.events, what).toBe(0);
    }
  });

  it('survives random bytes and random corruption of a good page', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed;
    };
    const good = buildPage({
      ts: 77n,
      items: Array.from({ length: 40 }, (_, i) => ({ kind: 'data' as const, delta: i, data: i % 3 ? sw(i, i + 1) : mark(`m${i}`) })),
    });
    for (let round = 0; round < 2000; round++) {
      const page = round % 2 ? Buffer.from(good) : Buffer.alloc(4096);
      if (round % 2 === 0) for (let i = 0; i < 4096; i += 4) page.writeUInt32LE(rnd(), i);
      else for (let k = 0; k < 8; k++) page[16 + (rnd() % 2000)] = rnd() & 0xff;
      if (round % 4 === 2) page.writeUInt32LE(rnd() % 4080, 8); // a plausible commit, random data
      const events: FtraceEvent[] = [];
      expect(() => new FtracePageParser(FORMATS).parse(page, 0, events, rnd() % 4097)).not.toThrow();
      for (const e of events) expect(typeof e.ts).toBe('bigint');
    }
  });

  it('parseRingBufferPage is the one-call form, with formats or a prepared parser', () => {
    const page = buildPage({ ts: 10n, items: [{ kind: 'data', delta: 1, data: mark('one') }] });
    expect(parseRingBufferPage(page, FORMATS, { cpu: 1 }).list).toMatchObject([{ ts: 11n, cpu: 1, comm: '<...>', fields: { buf: 'one' } }]);
    const parser = new FtracePageParser(FORMATS);
    expect(parseRingBufferPage(page, parser).list).toHaveLength(1);
    expect(
      parseRingBufferPage(buildPage({ ts: 0n, items: [{ kind: 'data', delta: 1, data: encodeEvent(PRINT, 0, { buf: 'i' }) }] }), parser).list[0]!.comm,
    ).toBe('<idle>');
  });
});

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EVENT_HEADER,
  DEFAULT_PAGE_LAYOUT,
  FtraceError,
  FtracePageParser,
  classifyField,
  parseCpuStatsFile,
  parseFormatFile,
  parseFtraceEventSpecs,
  parseHeaderEvent,
  parseHeaderPage,
  parseSavedCmdlines,
  tracefsMountsIn,
  type FtraceEvent,
} from '../src/index.js';
import { buildPage, encodeEvent } from './ftrace-helpers.js';

const COMMON = `\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
`;
function format(id: number, fields: string): string {
  return `name: test_event\nID: ${id}\nformat:\n${COMMON}\n${fields}\nprint fmt: "x"\n`;
}

describe('format files', () => {
  it('classifies every field kind', () => {
    const f = parseFormatFile(
      format(
        42,
        `\tfield:u8 a;\toffset:8;\tsize:1;\tsigned:0;
\tfield:s8 b;\toffset:9;\tsize:1;\tsigned:1;
\tfield:short c;\toffset:10;\tsize:2;\tsigned:1;
\tfield:unsigned short d;\toffset:12;\tsize:2;\tsigned:0;
\tfield:int e;\toffset:16;\tsize:4;\tsigned:1;
\tfield:unsigned int f;\toffset:20;\tsize:4;\tsigned:0;
\tfield:s64 g;\toffset:24;\tsize:8;\tsigned:1;
\tfield:u64 h;\toffset:32;\tsize:8;\tsigned:0;
\tfield:void * ptr;\toffset:40;\tsize:8;\tsigned:0;
\tfield:char comm[16];\toffset:48;\tsize:16;\tsigned:1;
\tfield:u8 mac[6];\toffset:64;\tsize:6;\tsigned:0;
\tfield:unsigned long args[2];\toffset:72;\tsize:16;\tsigned:0;
\tfield:__data_loc char[] name;\toffset:88;\tsize:4;\tsigned:1;
\tfield:__rel_loc char[] rel;\toffset:92;\tsize:4;\tsigned:1;
\tfield:__data_loc u32[] ids;\toffset:96;\tsize:4;\tsigned:0;
\tfield:struct weird odd;\toffset:100;\tsize:3;\tsigned:0;
\tfield:bool flag;\toffset:103;\tsize:1;\tsigned:0;`,
      ),
      'test',
    )!;
    expect(f.id).toBe(42);
    expect(f.system).toBe('test');
    expect(f.commonFields.map((x) => x.name)).toEqual(['common_type', 'common_flags', 'common_preempt_count', 'common_pid']);
    expect(Object.fromEntries(f.fields.map((x) => [x.name, [x.kind, x.elementSize]]))).toEqual({
      a: ['int', 1],
      b: ['int', 1],
      c: ['int', 2],
      d: ['int', 2],
      e: ['int', 4],
      f: ['int', 4],
      g: ['int', 8],
      h: ['int', 8],
      ptr: ['int', 8],
      comm: ['string', 1],
      mac: ['array', 1],
      args: ['array', 8],
      name: ['dynString', 1],
      rel: ['dynString', 1],
      ids: ['dynArray', 4],
      odd: ['bytes', 1],
      flag: ['int', 1],
    });
    expect(f.fields.find((x) => x.name === 'rel')!.relative).toBe(true);
  });

  it('reads ints of every size and sign, 64-bit beyond 2^53 as bigint, arrays, dynamic strings and arrays, unknown fields as bytes', () => {
    const f = parseFormatFile(
      format(
        42,
        `\tfield:u8 a;\toffset:8;\tsize:1;\tsigned:0;
\tfield:s8 b;\toffset:9;\tsize:1;\tsigned:1;
\tfield:short c;\toffset:10;\tsize:2;\tsigned:1;
\tfield:unsigned short d;\toffset:12;\tsize:2;\tsigned:0;
\tfield:int e;\toffset:16;\tsize:4;\tsigned:1;
\tfield:unsigned int f;\toffset:20;\tsize:4;\tsigned:0;
\tfield:s64 g;\toffset:24;\tsize:8;\tsigned:1;
\tfield:u64 h;\toffset:32;\tsize:8;\tsigned:0;
\tfield:s64 small;\toffset:40;\tsize:8;\tsigned:1;
\tfield:char comm[16];\toffset:48;\tsize:16;\tsigned:1;
\tfield:u8 mac[6];\toffset:64;\tsize:6;\tsigned:0;
\tfield:unsigned long args[2];\toffset:72;\tsize:16;\tsigned:0;
\tfield:__data_loc char[] name;\toffset:88;\tsize:4;\tsigned:1;
\tfield:__rel_loc char[] rel;\toffset:92;\tsize:4;\tsigned:1;
\tfield:__data_loc u32[] ids;\toffset:96;\tsize:4;\tsigned:0;
\tfield:struct weird odd;\toffset:100;\tsize:3;\tsigned:0;`,
      ),
      'test',
    )!;
    const data = encodeEvent(
      f,
      77,
      {
        a: 255,
        b: -1,
        c: -300,
        d: 65535,
        e: -2_000_000_000,
        f: 4_000_000_000,
        g: -(2n ** 62n),
        h: 2n ** 64n - 1n,
        small: -5,
        comm: 'kworker/0:1',
        mac: Buffer.from([1, 2, 3, 4, 5, 6]),
        args: Buffer.from(new BigUint64Array([7n, 2n ** 40n]).buffer),
        name: 'eth0',
        rel: 'relative',
        odd: Buffer.from([9, 8, 7]),
      },
      12,
    );
    // ids: a __data_loc u32[] of 3 elements, placed at the end of the event
    const idsAt = data.length - 12;
    data.writeUInt32LE(((12 << 16) | idsAt) >>> 0, 96);
    [10, 20, 30].forEach((v, i) => data.writeUInt32LE(v, idsAt + 4 * i));
    const events: FtraceEvent[] = [];
    const r = new FtracePageParser([f]).parse(buildPage({ ts: 5n, items: [{ kind: 'data', delta: 0, data }] }), 0, events);
    expect(r.error).toBeUndefined();
    expect(events[0]!.pid).toBe(77);
    expect(events[0]!.fields).toEqual({
      a: 255,
      b: -1,
      c: -300,
      d: 65535,
      e: -2_000_000_000,
      f: 4_000_000_000,
      g: -(2n ** 62n),
      h: 2n ** 64n - 1n,
      small: -5,
      comm: 'kworker/0:1',
      mac: [1, 2, 3, 4, 5, 6],
      args: [7, 2 ** 40],
      name: 'eth0',
      rel: 'relative',
      ids: [10, 20, 30],
      odd: [9, 8, 7],
    });
  });

  it('a dynamic field pointing outside its event makes the event undecodable, not the page', () => {
    const f = parseFormatFile(format(9, '\tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:1;'), 't')!;
    const data = encodeEvent(f, 1, { name: 'ok' });
    const bad = Buffer.from(data);
    bad.writeUInt32LE(((200 << 16) | 12) >>> 0, 8);
    const events: FtraceEvent[] = [];
    const r = new FtracePageParser([f]).parse(
      buildPage({
        ts: 0n,
        items: [
          { kind: 'data', delta: 1, data: bad },
          { kind: 'data', delta: 1, data },
        ],
      }),
      0,
      events,
    );
    expect(r).toMatchObject({ events: 1, undecodable: 1, undecodableId: 9 });
    expect(events[0]!.fields.name).toBe('ok');
  });

  it('returns undefined for text that is not a format file, and never throws on garbage', () => {
    expect(parseFormatFile('')).toBeUndefined();
    expect(parseFormatFile('name: x\nformat:\n')).toBeUndefined();
    expect(parseFormatFile('ID: 12\n')).toBeUndefined();
    expect(parseFormatFile('name: x\nID: 99999999\n' + COMMON)).toBeUndefined();
    expect(() => parseFormatFile('field:;offset:;size:;\n\0\xff'.repeat(100))).not.toThrow();
    expect(classifyField('???', 0, 4, false)).toMatchObject({ kind: 'bytes', name: '???' });
    expect(classifyField('', 0, 5, false).kind).toBe('bytes');
  });
});

describe('header_page / header_event', () => {
  it('reads a 32-bit layout and falls back to the defaults on nonsense', () => {
    const text32 = `\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;
\tfield: local_t commit;\toffset:8;\tsize:4;\tsigned:1;
\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;
\tfield: char data;\toffset:12;\tsize:4084;\tsigned:1;`;
    expect(parseHeaderPage(text32)).toEqual({ timestampOffset: 0, timestampSize: 8, commitOffset: 8, commitSize: 4, dataOffset: 12, pageSize: 4096 });
    expect(parseHeaderPage('')).toEqual(DEFAULT_PAGE_LAYOUT);
    expect(parseHeaderPage('field: char data; offset:2; size:1;')).toEqual(DEFAULT_PAGE_LAYOUT);
    expect(parseHeaderEvent('type_len : 9 bits\ntime_delta : 27 bits')).toEqual(DEFAULT_EVENT_HEADER);
    expect(parseHeaderEvent('garbage')).toEqual(DEFAULT_EVENT_HEADER);
  });

  it('parses pages of a 32-bit layout (4-byte commit, data at 12)', () => {
    const f = parseFormatFile(format(3, '\tfield:int v;\toffset:8;\tsize:4;\tsigned:1;'), 't')!;
    const page = Buffer.alloc(4096);
    page.writeBigUInt64LE(1000n, 0);
    page.writeUInt32LE((16 | 0x80000000 | 0x40000000) >>> 0, 8);
    page.writeUInt32LE((3 << 5) | 3, 12); // type_len 3: 12 bytes, delta 3
    encodeEvent(f, 4, { v: -9 }).copy(page, 16);
    page.writeUInt32LE(33, 28); // the stored missed count: a 4-byte long
    const events: FtraceEvent[] = [];
    const layout = parseHeaderPage('field: local_t commit; offset:8; size:4;\nfield: char data; offset:12; size:4084;');
    const r = new FtracePageParser([f], { layout }).parse(page, 0, events);
    expect(r).toMatchObject({ events: 1, missed: 33 });
    expect(events[0]).toMatchObject({ ts: 1003n, pid: 4, fields: { v: -9 } });
  });
});

describe('event specs', () => {
  it('parses lists, wildcards and filters whose commas and brackets stay inside', () => {
    expect(parseFtraceEventSpecs(['sched:sched_switch,sched:sched_waking', 'irq:*'])).toEqual([
      { system: 'sched', name: 'sched_switch' },
      { system: 'sched', name: 'sched_waking' },
      { system: 'irq', name: '*' },
    ]);
    expect(parseFtraceEventSpecs(['sched:sched_switch[prev_pid > 0 && next_comm ~ "a,b[c]"],irq:irq_handler_entry[irq == 25]'])).toEqual([
      { system: 'sched', name: 'sched_switch', filter: 'prev_pid > 0 && next_comm ~ "a,b[c]"' },
      { system: 'irq', name: 'irq_handler_entry', filter: 'irq == 25' },
    ]);
    expect(parseFtraceEventSpecs(['ftrace:print,'])).toEqual([{ system: 'ftrace', name: 'print' }]);
  });

  it('rejects malformed specs with BAD_EVENT_SPEC naming the spec', () => {
    for (const bad of ['sched_switch', 'sched:', ':x', '../etc:passwd', 'sched:../x', 'sched:a[', 'sched:a[]', 'sched:x,sched:x', '', 'a b:c']) {
      let err: unknown;
      try {
        parseFtraceEventSpecs([bad]);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(FtraceError);
      expect((err as FtraceError).code, bad).toBe('BAD_EVENT_SPEC');
    }
    expect(() => parseFtraceEventSpecs(['sched:nope['])).toThrow(/"sched:nope\["/);
  });
});

describe('saved_cmdlines, stats, /proc/mounts', () => {
  it('parses them', () => {
    expect([...parseSavedCmdlines('1 systemd\n97 kworker/0:2\n140 my prog\nbad\n')]).toEqual([
      [1, 'systemd'],
      [97, 'kworker/0:2'],
      [140, 'my prog'],
    ]);
    const stats = 'entries: 5\noverrun: 7\ncommit overrun: 2\nbytes: 100\noldest event ts:     4.99\nnow ts:     5.32\ndropped events: 3\nread events: 554\n';
    expect(parseCpuStatsFile(stats)).toEqual({ entries: 5, overrun: 7, commitOverrun: 2, dropped: 3, read: 554 });
    expect(parseCpuStatsFile('')).toEqual({ entries: 0, overrun: 0, commitOverrun: 0, dropped: 0, read: 0 });
    expect(tracefsMountsIn('sysfs /sys sysfs rw 0 0\nnodev /sys/kernel/tracing tracefs rw 0 0\nx /mnt/a\\040b tracefs rw 0 0\n')).toEqual([
      '/sys/kernel/tracing',
      '/mnt/a b',
    ]);
  });
});

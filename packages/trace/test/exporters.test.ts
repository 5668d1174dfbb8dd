import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConsoleExporter,
  JsonlExporter,
  PerfettoExporter,
  WatermarkMerge,
  eventToJsonLine,
  nsToMicrosString,
  parseJsonLine,
  type TraceEvent,
} from '../src/index.js';
import { ev } from './helpers.js';

/** A Writable that collects everything written to it. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsock-rpc-trace-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sample: TraceEvent[] = [
  ev('host', 0, 1_000_000_123n, { text: 'host started' }),
  ev('guest1', 0, 1_000_000_500n, { origTs: 42n, errorBoundNs: 250n, text: 'hello\nworld' }),
  ev('guest1', 1, 1_000_001_000n, {
    origTs: 542n,
    errorBoundNs: 250n,
    kind: 'span',
    fields: { durationNs: 1_500, big: 2n ** 64n, ok: true, name: 'x' },
  }),
  ev('host', 1, 1_000_002_000n, { kind: 'tick' }),
];

describe('ConsoleExporter', () => {
  it('writes `<host_ns> <source> <text>` lines, one per event, no colour on a non-TTY', async () => {
    const s = sink();
    const x = new ConsoleExporter({ output: s.stream });
    expect(x.write(sample)).toBe(true);
    await x.close();
    expect(s.text()).toBe(
      [
        '1000000123 host host started',
        '1000000500 guest1 hello\\nworld',
        '1000001000 guest1 span durationNs=1500 big=18446744073709551616 ok=true name=x',
        '1000002000 host tick',
        '',
      ].join('\n'),
    );
    expect(x.stats()).toMatchObject({ written: 4, dropped: 0 });
    // Given streams are not ended unless asked (process.stdout must survive).
    expect(s.stream.writableEnded).toBe(false);
  });

  it('colours the source column per source when asked', async () => {
    const s = sink();
    const x = new ConsoleExporter({ output: s.stream, color: true, end: true });
    x.write([ev('host', 0, 1n, { text: 'a' }), ev('g', 0, 2n, { text: 'b' }), ev('host', 1, 3n, { text: 'c' })]);
    await x.close();
    const lines = s.text().trimEnd().split('\n');
    const colourOf = (l: string): string | undefined => /\x1b\[(\d+)m/.exec(l)?.[1];
    expect(colourOf(lines[0]!)).toBeDefined();
    expect(colourOf(lines[0]!)).toBe(colourOf(lines[2]!));
    expect(colourOf(lines[0]!)).not.toBe(colourOf(lines[1]!));
    expect(lines[0]!.replace(/\x1b\[\d+m/g, '')).toBe('1 host a');
    expect(s.stream.writableEnded).toBe(true);
  });

  it('formatLine is the uncoloured line', () => {
    expect(ConsoleExporter.formatLine(ev('g', 0, 5n, { text: 't' }))).toBe('5 g t');
  });

  it('escapes what a guest chose: source, text and fields cannot forge lines or reach the terminal', () => {
    const e = ev('evil\x1b[2J', 0, 5n, { text: 'a\nFAKE 1 host OK\x1b]0;pwned\x07\u202e', fields: { 'k\n': 'v\r' } });
    const line = ConsoleExporter.formatLine(e);
    expect(line).toBe('5 evil\\e[2J a\\nFAKE 1 host OK\\e]0;pwned\\x07\\u202e k\\n=v\\r');
    expect(line).not.toMatch(/[\x00-\x1f\x7f\u202e]/);
    const s = sink();
    const x = new ConsoleExporter({ output: s.stream, color: true });
    x.write([e]);
    // Only our own colour codes: one ESC before the name, one after it.
    expect(s.text().split('\x1b').length - 1).toBe(2);
    expect(s.text().split('\n').length).toBe(2);
  });
});

describe('JsonlExporter', () => {
  it('written() resolves once the chunks written so far have left the process', async () => {
    const path = join(dir, 'written.jsonl');
    const x = new JsonlExporter({ output: path });
    x.write(sample);
    await x.written();
    // Already on disk, before close: what a SIGKILL could no longer take away.
    expect((await readFile(path, 'utf8')).trim().split('\n').length).toBe(sample.length);
    await x.close();
  });

  it('round-trips through a file, bigints as decimal strings', async () => {
    const path = join(dir, 'trace.jsonl');
    const x = new JsonlExporter({ output: path });
    x.write(sample.slice(0, 2));
    x.write([]);
    x.write(sample.slice(2));
    await x.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(sample.length);
    const raw = JSON.parse(lines[2]!) as Record<string, unknown>;
    expect(raw['ts']).toBe('1000001000');
    expect(raw['origTs']).toBe('542');
    expect(raw['errorBoundNs']).toBe('250');
    expect((raw['fields'] as Record<string, unknown>)['big']).toBe('18446744073709551616');
    const back = lines.map(parseJsonLine);
    // Everything round-trips except bigint field values, which come back as strings.
    const expected = sample.map((e) => (e.fields === undefined ? e : { ...e, fields: { ...e.fields, big: String(e.fields['big']) } }));
    expect(back).toEqual(expected);
  });

  it('eventToJsonLine is one line even for multi-line text', () => {
    expect(eventToJsonLine(sample[1]!)).not.toContain('\n');
    expect(() => parseJsonLine('{"source":"a","seq":0,"ts":1,"origTs":"1","errorBoundNs":"0","kind":"k"}')).toThrow(
      expect.objectContaining({ name: 'TraceError', code: 'ERR_TRACE_BAD_LINE' }),
    );
    expect(() => parseJsonLine('not json')).toThrow(expect.objectContaining({ code: 'ERR_TRACE_BAD_LINE' }));
  });
});

describe('PerfettoExporter', () => {
  interface TEv {
    ph: string;
    name: string;
    pid: number;
    tid: number;
    ts?: number;
    dur?: number;
    s?: string;
    cat?: string;
    args: Record<string, unknown>;
  }

  it('nsToMicrosString keeps sub-µs precision exactly', () => {
    expect(nsToMicrosString(0n)).toBe('0');
    expect(nsToMicrosString(1_500n)).toBe('1.500');
    expect(nsToMicrosString(7n)).toBe('0.007');
    expect(nsToMicrosString(-1_001n)).toBe('-1.001');
    expect(nsToMicrosString(123_456_789_012_345_678n)).toBe('123456789012345.678');
  });

  it('writes a valid trace: process tracks per source, metadata once, monotone ts per track', async () => {
    const path = join(dir, 'trace.json');
    const x = new PerfettoExporter({ output: path, sourceOrder: ['host'] });
    // Feed it through the merge as the collector will.
    const m = new WatermarkMerge({ now: () => 0n });
    m.addSource('host');
    m.addSource('guest1');
    m.addSource('guest2');
    const batches: TraceEvent[][] = [
      [ev('guest1', 0, 1_000n, { text: 'g1 a' }), ev('guest1', 1, 5_000n, { text: 'g1 b' })],
      [ev('host', 0, 500n, { text: 'h a' }), ev('host', 1, 4_000n), ev('host', 2, 9_000n)],
      [ev('guest2', 0, 2_000n, { kind: 'span', fields: { durationNs: 2_500n } }), ev('guest2', 1, 8_000n)],
      [ev('guest1', 2, 7_000n, { text: 'quote " and \\ and \u2028' })],
    ];
    for (const b of batches) x.write(m.push(b));
    x.write(m.flush());
    await x.close();
    await x.close(); // idempotent

    const text = await readFile(path, 'utf8');
    const doc = JSON.parse(text) as { traceEvents: TEv[]; displayTimeUnit: string };
    expect(doc.displayTimeUnit).toBe('ns');
    expect(Array.isArray(doc.traceEvents)).toBe(true);
    const meta = doc.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name');
    expect(meta.map((e) => e.args['name']).sort()).toEqual(['guest1', 'guest2', 'host']);
    const pidOf = new Map(meta.map((e) => [e.args['name'] as string, e.pid]));
    expect(new Set(pidOf.values()).size).toBe(3);
    expect(pidOf.get('host')).toBe(1);

    const data = doc.traceEvents.filter((e) => e.ph !== 'M');
    expect(data).toHaveLength(8);
    // Metadata precedes a track's first event.
    for (const [name, pid] of pidOf) {
      const firstMeta = doc.traceEvents.findIndex((e) => e.ph === 'M' && e.pid === pid);
      const firstData = doc.traceEvents.findIndex((e) => e.ph !== 'M' && e.pid === pid);
      expect(firstMeta, name).toBeLessThan(firstData);
    }
    // ts monotone per track.
    for (const pid of pidOf.values()) {
      const ts = data.filter((e) => e.pid === pid).map((e) => e.ts!);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
    }
    const span = data.find((e) => e.ph === 'X')!;
    expect(span).toMatchObject({ ts: 2, dur: 2.5, pid: pidOf.get('guest2'), cat: 'span' });
    const inst = data.find((e) => e.name === 'g1 a')!;
    expect(inst).toMatchObject({ ph: 'i', s: 't', ts: 1, cat: 'message', pid: pidOf.get('guest1') });
    expect(inst.args).toMatchObject({ seq: 0, origTs: '1000', errorBoundNs: '0', text: 'g1 a' });
    expect(data.find((e) => e.pid === pidOf.get('guest2') && e.ph === 'X')!.args['fields']).toEqual({
      durationNs: '2500',
    });
    expect(data.some((e) => e.name === 'quote " and \\ and \u2028')).toBe(true);
    expect(x.stats()).toMatchObject({ written: 8, dropped: 0 });
  });

  it('an empty trace is still valid JSON', async () => {
    const s = sink();
    const x = new PerfettoExporter({ output: s.stream, end: true });
    await x.close();
    expect(JSON.parse(s.text())).toEqual({ displayTimeUnit: 'ns', traceEvents: [] });
  });
});

describe('exporter buffering', () => {
  it('drops whole batches (counted) when the output is too far behind, and the file stays valid', async () => {
    // A stream that does not drain until released.
    const chunks: string[] = [];
    let release: (() => void) | undefined;
    const stalled = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        release = cb;
      },
    });
    const x = new PerfettoExporter({ output: stalled, end: true, maxBufferedBytes: 2_000 });
    let backoff = false;
    for (let i = 0; i < 50; i++) {
      if (!x.write([ev(`s${i % 3}`, i, BigInt(i * 1000), { text: 'x'.repeat(50) })])) backoff = true;
    }
    expect(backoff).toBe(true);
    const st = x.stats();
    expect(st.dropped).toBeGreaterThan(0);
    expect(st.written + st.dropped).toBe(50);
    expect(stalled.writableLength).toBeLessThanOrEqual(2_000 + 200);
    // Unstall: keep acknowledging writes.
    const pump = setInterval(() => {
      const r = release;
      release = undefined;
      r?.();
    }, 1);
    try {
      await x.close();
    } finally {
      clearInterval(pump);
    }
    const doc = JSON.parse(chunks.join('')) as { traceEvents: { ph: string; pid: number; name: string }[] };
    const data = doc.traceEvents.filter((e) => e.ph !== 'M');
    expect(data).toHaveLength(st.written);
    // Every track that has events has its name, even if its first batch was dropped.
    for (const pid of new Set(data.map((e) => e.pid))) {
      expect(doc.traceEvents.some((e) => e.ph === 'M' && e.name === 'process_name' && e.pid === pid)).toBe(true);
    }
  });

  it('drained() resolves once the stream drains; writes after close are dropped', async () => {
    const p = new PassThrough({ highWaterMark: 16 });
    const x = new JsonlExporter({ output: p });
    expect(x.write([ev('a', 0, 1n, { text: 'y'.repeat(100) })])).toBe(false);
    const drained = x.drained();
    p.resume();
    await drained;
    await x.close();
    x.write([ev('a', 1, 2n)]);
    expect(x.stats()).toMatchObject({ written: 1, dropped: 1 });
  });

  it('close() rejects with the stream error, and write() then drops', async () => {
    const bad = new Writable({
      write(_c, _e, cb) {
        cb(new Error('disk full'));
      },
    });
    const x = new JsonlExporter({ output: bad, end: true });
    x.write([ev('a', 0, 1n)]);
    await new Promise((r) => setImmediate(r));
    x.write([ev('a', 1, 2n)]);
    await expect(x.close()).rejects.toThrow('disk full');
    expect(x.stats()).toMatchObject({ written: 1, dropped: 1 });
    expect(x.stats().error?.message).toBe('disk full');
  });

  it('a file path that cannot be opened surfaces on close()', async () => {
    const x = new JsonlExporter({ output: join(dir, 'no', 'such', 'dir', 'f.jsonl') });
    x.write([ev('a', 0, 1n)]);
    await expect(x.close()).rejects.toThrow(/ENOENT/);
  });
});

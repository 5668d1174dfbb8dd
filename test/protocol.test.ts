/**
 * PROTOCOL.md is normative: its worked examples are the encoder's exact bytes, its fingerprint is
 * exampleRegistry's, and every number in its tables is the one in @vsock-rpc/wire's constants.
 * Imports the built package (run `npx tsc -b packages/wire` first).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BULK_MAX_VALUE,
  BULK_THRESHOLD,
  CLOCK_REQUEST_SIZE,
  CLOCK_RESPONSE_SIZE,
  Codec,
  ControlType,
  DEFAULT_INLINE_LIMIT,
  DEFAULT_MAX_FRAME,
  Flags,
  FrameDecoder,
  FrameEncoder,
  HEADER_SIZE,
  KNOWN_FLAGS,
  Kind,
  MAX_FRAME_CEILING,
  MAX_TYPE_ID,
  PROTOCOL_VERSION,
  RESERVED_ID_MIN,
  DEFAULT_MAX_STREAMS,
  DEFAULT_STREAM_WINDOW,
  decodeErrorPayload,
  defineRegistry,
  decodeWindow,
  encodeErrorPayload,
  encodeWindow,
  type Frame,
  type MethodEntry,
  type StreamEntry,
} from '@vsock-rpc/wire';
import { Type } from '@sinclair/typebox';
import { exampleRegistry } from '@vsock-rpc/wire/examples';
import { streamExampleRegistry } from './interop/stream-registry.js';

const protocolPath = fileURLToPath(new URL('../PROTOCOL.md', import.meta.url));
const doc = readFileSync(protocolPath, 'utf8');
const codec = new Codec(exampleRegistry);

/** The bytes of the fenced block tagged ```hex <tag>: hex pairs, and `XX … (N bytes of XX)` for runs. */
function hexBlock(tag: string): Buffer {
  const blocks = [...doc.matchAll(/^```hex (\S+)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === tag);
  expect(blocks, `exactly one \`\`\`hex ${tag} block in PROTOCOL.md`).toHaveLength(1);
  const bytes: number[] = [];
  for (const raw of blocks[0]![2]!.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const run = /^([0-9a-f]{2})\s*(?:…|\.\.\.)\s*\((\d+) bytes of ([0-9a-f]{2})\)$/i.exec(line);
    if (run) {
      expect(run[1]!.toLowerCase(), `run notation in ${tag}`).toBe(run[3]!.toLowerCase());
      for (let i = 0; i < Number(run[2]); i++) bytes.push(parseInt(run[3]!, 16));
      continue;
    }
    for (const tok of line.split(/\s+/)) {
      if (!/^[0-9a-f]{2}$/i.test(tok)) throw new Error(`PROTOCOL.md block ${tag}: '${tok}' is not a hex byte`);
      bytes.push(parseInt(tok, 16));
    }
  }
  return Buffer.from(bytes);
}

/** The markdown section starting at `heading` (up to the next heading of the same or higher level). */
function section(heading: string): string {
  const start = doc.indexOf(heading);
  expect(start, `section '${heading}' in PROTOCOL.md`).toBeGreaterThanOrEqual(0);
  const level = /^#+/.exec(heading)![0].length;
  const rest = doc.slice(start + heading.length);
  const end = rest.search(new RegExp(`^#{1,${level}} `, 'm'));
  return end < 0 ? rest : rest.slice(0, end);
}

/** `text` with every run of whitespace (line breaks of the markdown included) as one space. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

/** Rows of the first markdown table in `text`, as trimmed cells, header and separator left out. */
function tableRows(text: string): string[][] {
  const all = text.split('\n');
  const first = all.findIndex((l) => l.trim().startsWith('|'));
  const end = all.findIndex((l, i) => i > first && !l.trim().startsWith('|'));
  const lines = all.slice(first, end < 0 ? undefined : end);
  return lines.slice(2).map((l) =>
    l
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim()),
  );
}

function decodeFrames(bytes: Buffer, streams = false): Frame[] {
  const frames: Frame[] = [];
  const dec = new FrameDecoder((f) => frames.push(f), { streams });
  dec.push(bytes);
  dec.end();
  return frames;
}

describe('PROTOCOL.md §10 worked examples', () => {
  it('parses the notation: the large-frame block is 12 + 5008 bytes ending in 5000 × 0x41', () => {
    const large = hexBlock('large-frame');
    expect(large.length).toBe(12 + 5008);
    expect(large.subarray(20).equals(Buffer.alloc(5000, 0x41))).toBe(true);
    expect(hexBlock('small-frame').length).toBe(12 + 30);
  });

  it('small frame: messageexp event, one inline chunk', () => {
    const expected = hexBlock('small-frame');
    const enc = new FrameEncoder();
    enc.push(Kind.EVENT, 4, 0, codec.encodeMessage('messageexp', { timestamp: 1234567890123456789n, str: 'HELLO' }));
    const chunks = enc.take();
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.toString('hex')).toBe(expected.toString('hex'));
    const [f] = decodeFrames(expected);
    expect(codec.decodeMessage(exampleRegistry.messageById(f!.type)!, f!.payload)).toEqual({ timestamp: 1234567890123456789n, str: 'HELLO' });
  });

  it('large frame: example0 of 5000 × "A", two chunks (12-byte header, 5008-byte payload)', () => {
    const expected = hexBlock('large-frame');
    const enc = new FrameEncoder();
    const payload = codec.encodeMessage('example0', { str: 'A'.repeat(5000) });
    enc.push(Kind.EVENT, 0, 0, payload);
    const chunks = enc.take();
    expect(chunks.map((c) => c.length)).toEqual([12, 5008]);
    expect(chunks[1]!.buffer).toBe(payload.buffer); // not copied
    expect(Buffer.concat(chunks).toString('hex')).toBe(expected.toString('hex'));
    const [f] = decodeFrames(expected);
    expect(codec.decodeMessage(exampleRegistry.messageById(f!.type)!, f!.payload)).toEqual({ str: 'A'.repeat(5000) });
  });

  it('request frame: echo, call id 7, deadline 250 ms', () => {
    const expected = hexBlock('request-frame');
    const enc = new FrameEncoder();
    enc.push(Kind.REQUEST, exampleRegistry.method('echo').id, 7, codec.encodeRequest('echo', { timestamp: 42n, str: 'X' }), 250);
    const chunks = enc.take();
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.toString('hex')).toBe(expected.toString('hex'));
    const [f] = decodeFrames(expected);
    expect([f!.kind, f!.type, f!.id, f!.flags, f!.deadlineMs]).toEqual([Kind.REQUEST, 100, 7, Flags.DEADLINE, 250]);
    expect(codec.decodeMethod(exampleRegistry.methodById(100)!, 'request', f!.payload)).toEqual({ timestamp: 42n, str: 'X' });
  });

  it('error frame: UNKNOWN_METHOD answering call 7', () => {
    const expected = hexBlock('error-frame');
    const enc = new FrameEncoder();
    enc.push(Kind.ERROR, 100, 7, encodeErrorPayload({ code: 'UNKNOWN_METHOD', message: 'no handler' }));
    const chunks = enc.take();
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.toString('hex')).toBe(expected.toString('hex'));
    const [f] = decodeFrames(expected);
    expect([f!.kind, f!.type, f!.id]).toEqual([Kind.ERROR, 100, 7]);
    expect(decodeErrorPayload(f!.payload)).toEqual({ code: 'UNKNOWN_METHOD', message: 'no handler' });
  });

  it('the four examples decode as one stream, in order', () => {
    const stream = Buffer.concat(['small-frame', 'large-frame', 'request-frame', 'error-frame'].map(hexBlock));
    expect(decodeFrames(stream).map((f) => [f.kind, f.type, f.id])).toEqual([
      [1, 4, 0],
      [1, 0, 0],
      [2, 100, 7],
      [4, 100, 7],
    ]);
  });

  it('the fingerprint quoted in §10 is exampleRegistry.fingerprint', () => {
    const quoted = /fingerprint\s*`([0-9a-f]+)`/.exec(section('## 10. Worked examples'));
    expect(quoted, 'a fingerprint in §10').not.toBeNull();
    expect(quoted![1]).toMatch(/^[0-9a-f]{32}$/);
    expect(quoted![1]).toBe(exampleRegistry.fingerprint);
  });
});

describe('PROTOCOL.md §11 streams: worked examples', () => {
  const streamCodec = new Codec(streamExampleRegistry);
  const lines = streamExampleRegistry.stream('lines');
  const shape = (e: StreamEntry) => ({ ...e, kind: 'method' }) as unknown as MethodEntry;

  it("the stream registry's canonical JSON, byte count and fingerprint are the spec's", () => {
    const blocks = [...doc.matchAll(/^```json stream-registry\n([\s\S]*?)\n^```$/gm)];
    expect(blocks).toHaveLength(1);
    const text = blocks[0]![1]!;
    expect(text).toBe(streamExampleRegistry.canonicalJson);
    const s11 = flat(section('## 11. Streams'));
    expect(s11).toContain(`(${Buffer.byteLength(text)} bytes)`);
    expect(s11).toContain(`fingerprint \`${streamExampleRegistry.fingerprint}\``);
  });

  it('a registry without streams fingerprints as before streams existed', () => {
    // The §10 block and fingerprint are checked above: exampleRegistry has no streams.
    expect(exampleRegistry.summary.every((s) => s.kind !== 'stream')).toBe(true);
    expect(exampleRegistry.canonicalJson).not.toContain('"stream"');
  });

  it('OPEN of lines { n: 2 }, stream 1, deadline 1000 ms, END', () => {
    const enc = new FrameEncoder();
    enc.push(Kind.OPEN, lines.id, 1, streamCodec.encodeMethod(shape(lines), 'request', { n: 2 }), 1000, Flags.END);
    expect(Buffer.concat(enc.take()).toString('hex')).toBe(hexBlock('stream-open').toString('hex'));
    const [f] = decodeFrames(hexBlock('stream-open'), true);
    expect([f!.kind, f!.type, f!.id, f!.flags, f!.deadlineMs]).toEqual([Kind.OPEN, 200, 1, Flags.DEADLINE | Flags.END, 1000]);
  });

  it('two DATA frames, the second with END', () => {
    const enc = new FrameEncoder();
    enc.push(Kind.DATA, 200, 1, streamCodec.encodeMethod(shape(lines), 'response', { i: 0, text: 'a' }));
    enc.push(Kind.DATA, 200, 1, streamCodec.encodeMethod(shape(lines), 'response', { i: 1, text: 'b' }), undefined, Flags.END);
    expect(Buffer.concat(enc.take()).toString('hex')).toBe(hexBlock('stream-data').toString('hex'));
    const frames = decodeFrames(hexBlock('stream-data'), true);
    expect(frames.map((f) => [f.kind, f.flags])).toEqual([
      [Kind.DATA, 0],
      [Kind.DATA, Flags.END],
    ]);
    expect(streamCodec.decodeMethod(shape(lines), 'response', frames[1]!.payload)).toEqual({ i: 1, text: 'b' });
  });

  it('WINDOW of 65 536 and RESET CANCELLED', () => {
    const enc = new FrameEncoder();
    enc.push(Kind.WINDOW, 200, 1, encodeWindow(65536));
    expect(Buffer.concat(enc.take()).toString('hex')).toBe(hexBlock('stream-window').toString('hex'));
    expect(decodeWindow(decodeFrames(hexBlock('stream-window'), true)[0]!.payload)).toBe(65536);
    enc.push(Kind.RESET, 200, 1, encodeErrorPayload({ code: 'CANCELLED', message: 'bye' }));
    expect(Buffer.concat(enc.take()).toString('hex')).toBe(hexBlock('stream-reset').toString('hex'));
  });

  it('without the feature, the stream kinds and END are BAD_KIND / BAD_FLAGS, as in every version-1 peer', () => {
    expect(() => decodeFrames(hexBlock('stream-window'))).toThrow(/kind 7/);
    const s2 = flat(section('### Kinds'));
    expect(s2).toContain(`A kind above ${Kind.ERROR} is a protocol error`);
    expect(s2).toContain(`a kind above ${Kind.RESET} is`);
  });

  it('the HELLO defaults of §5 are the constants', () => {
    const s5 = flat(section('## 5. Handshake'));
    expect(s5).toContain(`default ${DEFAULT_STREAM_WINDOW.toLocaleString('en').replace(/,/g, ' ')}`);
    expect(s5).toContain(`default ${DEFAULT_MAX_STREAMS}`);
  });
});

describe('PROTOCOL.md §12 bulk bodies: worked example', () => {
  const bulkRegistry = defineRegistry({ messages: { blob: { id: 12, schema: Type.Object({ n: Type.Integer(), data: Type.Uint8Array() }) } } });
  const bulkCodec = new Codec(bulkRegistry);
  const entry = bulkRegistry.message('blob');

  it('blob { n: 7, data: 40 000 × 0x5a }: header + value in one chunk, the caller’s buffer as the next', () => {
    const expected = hexBlock('bulk-frame');
    const data = Buffer.alloc(40_000, 0x5a);
    const bulk = bulkCodec.encodeEntryBulk(entry, { n: 7, data }, BULK_THRESHOLD)!;
    expect(bulk).toBeDefined();
    const enc = new FrameEncoder();
    enc.pushBulk(Kind.EVENT, entry.id, 0, bulk.value, bulk.body);
    const chunks = enc.take();
    expect(chunks.map((c) => c.length)).toEqual([26, 40_000]);
    expect(chunks[1]).toBe(data); // not copied
    expect(Buffer.concat(chunks).toString('hex')).toBe(expected.toString('hex'));
    const frames: Frame[] = [];
    const dec = new FrameDecoder((f) => frames.push(f), { bulk: true });
    dec.push(expected);
    dec.end();
    expect(frames[0]!.flags).toBe(Flags.BODY);
    expect(frames[0]!.body!.length).toBe(40_000);
    const value = bulkCodec.decodeMessageAt(entry, frames[0]!.source, frames[0]!.start, frames[0]!.end, false, frames[0]!.body) as {
      n: number;
      data: Uint8Array;
    };
    expect(value.n).toBe(7);
    expect(Buffer.compare(Buffer.from(value.data), data)).toBe(0);
  });

  it('the last DATA of stream 1 of upload { n: 2, data: 40 000 × 0xa5 }: BODY | END, the body counted in its length', () => {
    const expected = hexBlock('bulk-data-frame');
    const streamRegistry = defineRegistry({
      streams: { upload: { id: 300, mode: 'client', request: Type.Object({ n: Type.Integer(), data: Type.Uint8Array() }), response: Type.Object({}) } },
    });
    const stream = streamRegistry.stream('upload');
    const shape = {
      kind: 'method' as const,
      name: stream.name,
      id: stream.id,
      request: stream.request,
      response: stream.response,
      checkRequest: stream.checkRequest,
      checkResponse: stream.checkResponse,
    };
    const codec = new Codec(streamRegistry);
    const data = Buffer.alloc(40_000, 0xa5);
    const bulk = codec.encodeMethodBulk(shape, 'request', { n: 2, data }, BULK_THRESHOLD)!;
    const enc = new FrameEncoder();
    enc.pushBulk(Kind.DATA, stream.id, 1, bulk.value, bulk.body, Flags.END);
    const chunks = enc.take();
    expect(chunks[1]).toBe(data); // not copied
    expect(Buffer.concat(chunks).toString('hex')).toBe(expected.toString('hex'));
    const frames: Frame[] = [];
    new FrameDecoder((f) => frames.push(f), { bulk: true, streams: true }).push(expected);
    expect(frames[0]!.flags).toBe(Flags.BODY | Flags.END);
    expect(expected.readUInt32LE(0)).toBe(40_014);
    const value = codec.decodeMethodAt(shape, 'request', frames[0]!.source, frames[0]!.start, frames[0]!.end, false, frames[0]!.body) as {
      n: number;
      data: Uint8Array;
    };
    expect(value.n).toBe(2);
    expect(Buffer.compare(Buffer.from(value.data), data)).toBe(0);
    expect(flat(section('## 12. Bulk bodies'))).toContain('It costs 40 014 bytes');
  });

  it('the threshold and the value limit of §12 are the constants; without the feature BODY is BAD_FLAGS', () => {
    const s12 = flat(section('## 12. Bulk bodies'));
    expect(s12).toContain(`${BULK_THRESHOLD.toLocaleString('en').replace(/,/g, ' ')} bytes or more`);
    expect(s12).toContain(`1 … ${BULK_MAX_VALUE.toLocaleString('en').replace(/,/g, ' ')} bytes`);
    expect(() => decodeFrames(hexBlock('bulk-frame'))).toThrow(/BAD_FLAGS|flags 0x4/);
  });
});

describe('PROTOCOL.md tables and numbers equal src/constants.ts', () => {
  it('kinds', () => {
    const rows = tableRows(section('### Kinds'));
    const kinds = Object.fromEntries(rows.map((r) => [r[1]!, Number(r[0])]));
    expect(kinds).toEqual({ ...Kind });
    expect(flat(section('### Kinds'))).toContain(`A kind above ${Kind.ERROR} is a protocol error`);
    expect(flat(section('### Kinds'))).toContain(`a kind above ${Kind.RESET} is`);
  });

  it('flags', () => {
    const rows = tableRows(section('### Flags'));
    const flags = Object.fromEntries(rows.map((r) => [r[1]!, Number(r[0])]));
    expect(flags).toEqual({ ...Flags });
    // BODY is not among the flags every version-1 peer knows: only where "bulk" is on (§12).
    expect(rows.reduce((m, r) => m | Number(r[0]), 0)).toBe(KNOWN_FLAGS | Flags.BODY);
  });

  it('reserved ids and control types', () => {
    const s4 = section('## 4. Reserved TYPE_ ids and control frames');
    const rows = tableRows(s4);
    const types = Object.fromEntries(rows.map((r) => [r[1]!, Number(r[0])]));
    expect(types).toEqual({ ...ControlType });
    const range = /Ids (0x[0-9A-F]+)–(0x[0-9A-F]+) are reserved for the protocol; registries use 0–(0x[0-9A-F]+)/.exec(flat(s4));
    expect(range).not.toBeNull();
    expect(Number(range![1])).toBe(RESERVED_ID_MIN);
    expect(Number(range![2])).toBe(MAX_TYPE_ID);
    expect(Number(range![3])).toBe(RESERVED_ID_MIN - 1);
    expect(flat(s4)).toContain(`${CLOCK_REQUEST_SIZE} bytes: i64 T1`);
    expect(flat(s4)).toContain(`${CLOCK_RESPONSE_SIZE} bytes: i64 T1 (echoed), i64 T1′, i64 T2′`);
  });

  it("the example registry's canonical JSON: exact, and its SHA-256 is the fingerprint", () => {
    const blocks = [...doc.matchAll(/^```json example-registry\n([\s\S]*?)\n^```$/gm)];
    expect(blocks).toHaveLength(1);
    const text = blocks[0]![1]!;
    expect(text).toBe(exampleRegistry.canonicalJson);
    expect(flat(section('## 10. Worked examples'))).toContain(`on one line (${Buffer.byteLength(text)} bytes of UTF-8`);
    expect(createHash('sha256').update(text).digest('hex').slice(0, 32)).toBe(exampleRegistry.fingerprint);
  });

  it('the 12-byte header', () => {
    const s2 = section('## 2. Frames');
    expect(flat(s2)).toContain(`A frame is a ${HEADER_SIZE}-byte header`);
    const rows = tableRows(s2);
    expect(rows.map((r) => r[2])).toEqual(['`length`', '`type`', '`kind`', '`flags`', '`id`']);
    let next = 0;
    for (const [offset, size] of rows) {
      expect(Number(offset)).toBe(next); // contiguous, no padding
      next += Number(size);
    }
    expect(next).toBe(HEADER_SIZE);
  });

  it('limits: default maxFrame, its bounds, the inline limit, the protocol version', () => {
    const limits = flat(section('### Limits'));
    const def = /default (\d+) MiB\s*\(([\d  ]+)\)/.exec(limits);
    expect(def).not.toBeNull();
    expect(Number(def![1]) * 1024 * 1024).toBe(DEFAULT_MAX_FRAME);
    expect(Number(def![2]!.replace(/\D/g, ''))).toBe(DEFAULT_MAX_FRAME);
    const bounds = /at least (\d+), at most (\d+) GiB/.exec(limits);
    expect(Number(bounds![2]) * 1024 ** 3).toBe(MAX_FRAME_CEILING);
    expect(flat(section('### Small and large payloads'))).toContain(`(the reference uses ${DEFAULT_INLINE_LIMIT} bytes or less)`);
    expect(flat(section('## 10. Worked examples'))).toContain(`Above the ${DEFAULT_INLINE_LIMIT}-byte inline limit`);
    expect(doc).toContain(`# vsock-rpc wire protocol, version ${PROTOCOL_VERSION}`);
    expect(flat(section('## 5. Handshake'))).toContain(`protocol version: ${PROTOCOL_VERSION}`);
  });
});

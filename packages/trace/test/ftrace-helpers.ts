/**
 * Builders of synthetic ring-buffer pages for the ftrace parser tests, written from the kernel's
 * layout (kernel/trace/ring_buffer.c, libtraceevent's kbuffer.c): u64 page timestamp, u64 commit
 * (data length, bit 31 missed events, bit 30 count stored after the data), then events.
 */
import type { FtraceEventFormat } from '../src/index.js';

export type PageItem =
  /** An event with `data` (its first 2 bytes the id); long = force the type_len 0 form. */
  | { kind: 'data'; delta: number; data: Buffer; long?: boolean }
  /** TIME_EXTEND (type_len 30) carrying `delta` (up to 59 bits). */
  | { kind: 'extend'; delta: bigint }
  /** TIME_STAMP (type_len 31): absolute, the low 59 bits of `ts`. */
  | { kind: 'stamp'; ts: bigint }
  /** A discarded event (type_len 29, delta ≠ 0) covering `bytes` of data. */
  | { kind: 'discard'; delta: number; bytes: number }
  /** Padding with delta 0: the rest of the page is unused. */
  | { kind: 'end' }
  /** Raw words, for corrupt pages. */
  | { kind: 'raw'; words: number[] };

export interface PageSpec {
  ts: bigint;
  items: PageItem[];
  /** RB_MISSED_EVENTS; with `stored`, RB_MISSED_STORED and the count after the data. */
  missed?: { stored?: number };
  /** Override the commit length (data bytes) the header claims. */
  commit?: number;
  pageSize?: number;
}

function word(type: number, delta: number): number {
  return ((delta << 5) | type) >>> 0;
}

/** Encodes one page as trace_pipe_raw returns it. */
export function buildPage(spec: PageSpec): Buffer {
  const size = spec.pageSize ?? 4096;
  const page = Buffer.alloc(size);
  let pos = 16;
  const put32 = (v: number) => {
    page.writeUInt32LE(v >>> 0, pos);
    pos += 4;
  };
  for (const it of spec.items) {
    switch (it.kind) {
      case 'data': {
        const padded = Math.ceil(it.data.length / 4) * 4;
        if (!it.long && padded <= 112 && padded > 0) {
          put32(word(padded / 4, it.delta));
        } else {
          put32(word(0, it.delta));
          put32(padded + 4);
        }
        it.data.copy(page, pos);
        pos += padded;
        break;
      }
      case 'extend':
        put32(word(30, Number(it.delta & 0x7ffffffn)));
        put32(Number(it.delta >> 27n));
        break;
      case 'stamp':
        put32(word(31, Number(it.ts & 0x7ffffffn)));
        put32(Number((it.ts >> 27n) & 0xffffffffn));
        break;
      case 'discard':
        put32(word(29, it.delta));
        put32(it.bytes + 4);
        pos += it.bytes;
        break;
      case 'end':
        put32(word(29, 0));
        break;
      case 'raw':
        for (const w of it.words) put32(w);
        break;
    }
  }
  const dataLen = spec.commit ?? pos - 16;
  let commit = dataLen;
  if (spec.missed) {
    commit |= 0x80000000;
    if (spec.missed.stored !== undefined) {
      commit |= 0x40000000;
      page.writeBigUInt64LE(BigInt(spec.missed.stored), 16 + dataLen);
    }
  }
  page.writeBigUInt64LE(spec.ts, 0);
  page.writeBigUInt64LE(BigInt(commit >>> 0), 8);
  return page;
}

/** Encodes an event's data per `format`: common_type, common_pid, then the given field values. */
export function encodeEvent(format: FtraceEventFormat, pid: number, values: Record<string, number | bigint | string | Buffer>, extra = 0): Buffer {
  const fixedEnd = Math.max(8, ...format.fields.map((f) => f.offset + f.size));
  const tailParts: Buffer[] = [];
  let tailLen = 0;
  for (const f of format.fields) {
    const v = values[f.name];
    if (f.kind === 'dynString' && typeof v === 'string') {
      const b = Buffer.from(`${v}\0`);
      tailParts.push(b);
      tailLen += b.length;
    } else if (f.tail && typeof v === 'string') {
      const b = Buffer.from(`${v}\0`);
      tailParts.push(b);
      tailLen += b.length;
    }
  }
  const data = Buffer.alloc(fixedEnd + tailLen + extra);
  data.writeUInt16LE(format.id, 0);
  data.writeInt32LE(pid, 4);
  let dyn = fixedEnd;
  for (const f of format.fields) {
    const v = values[f.name];
    if (v === undefined) continue;
    if (f.kind === 'dynString') {
      const b = Buffer.from(`${String(v)}\0`);
      let off = dyn;
      if (f.relative) off -= f.offset + f.size;
      data.writeUInt32LE(((b.length << 16) | off) >>> 0, f.offset);
      b.copy(data, dyn);
      dyn += b.length;
    } else if (f.tail && typeof v === 'string') {
      Buffer.from(`${v}\0`).copy(data, f.offset);
    } else if (f.kind === 'string') {
      Buffer.from(String(v)).copy(data, f.offset, 0, f.size);
    } else if (Buffer.isBuffer(v)) {
      v.copy(data, f.offset);
    } else if (f.kind === 'int') {
      const big = BigInt(v as number | bigint);
      if (f.size === 8) data.writeBigUInt64LE(BigInt.asUintN(64, big), f.offset);
      else if (f.size === 4) data.writeUInt32LE(Number(BigInt.asUintN(32, big)), f.offset);
      else if (f.size === 2) data.writeUInt16LE(Number(BigInt.asUintN(16, big)), f.offset);
      else data.writeUInt8(Number(BigInt.asUintN(8, big)), f.offset);
    }
  }
  return data;
}

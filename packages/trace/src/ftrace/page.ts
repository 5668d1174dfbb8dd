/**
 * The ring-buffer page parser: one page as `per_cpu/cpuN/trace_pipe_raw` returns it
 * (page header, then events) into {@link FtraceEvent}s.
 *
 * Page header (events/header_page): u64 timestamp, the commit word (a long: data length in the
 * low 27 bits, bit 31 RB_MISSED_EVENTS, bit 30 RB_MISSED_STORED with the missed count stored as a
 * long right after the data), then the data. Each event starts with a u32: type_len (5 bits) and
 * time_delta (27 bits); type_len 0 means the length is in the next u32, 1…28 mean type_len * 4
 * bytes of data, 29 padding (delta 0: the rest of the page is empty; else a discarded event whose
 * length is in the next u32), 30 TIME_EXTEND (delta = next u32 << 27 | time_delta), 31 TIME_STAMP
 * (absolute, same encoding, the top 5 bits from the page timestamp). libtraceevent's kbuffer is
 * the reference. A page that does not parse is skipped whole (its events are not delivered) and
 * the reason returned: the caller counts it. Nothing here throws on page contents.
 * @packageDocumentation
 */
import { compileField, readInt, type FieldReader } from './fields.js';
import type { FtraceEventFormat } from './format.js';
import { DEFAULT_EVENT_HEADER, DEFAULT_PAGE_LAYOUT, type FtraceEventHeaderLayout, type FtracePageLayout } from './header.js';
import type { FtraceEvent, FtraceFieldValue } from './types.js';

/** What parsing one page gave (the events themselves are appended to the caller's array). */
export interface FtracePageResult {
  /** Events appended. */
  events: number;
  /** Events the kernel says it lost before this page (the stored count, or 1 when uncounted). */
  missed: number;
  /** The page was flagged RB_MISSED_EVENTS without a stored count. */
  missedUncounted: boolean;
  /** Events skipped: unknown id, or data shorter than the format. */
  undecodable: number;
  /** The id of the first undecodable event, for the caller's warning. */
  undecodableId?: number;
  /** Set when the page was skipped: why. */
  error?: string;
}

/** Options of {@link FtracePageParser}. */
export interface FtracePageParserOptions {
  /** From `events/header_page` ({@link parseHeaderPage}); default x86_64's. */
  layout?: FtracePageLayout;
  /** From `events/header_event` ({@link parseHeaderEvent}); default the standard one. */
  header?: FtraceEventHeaderLayout;
  /** Byte order of the kernel that wrote the page; default little-endian. */
  littleEndian?: boolean;
  /** pid → comm (default: `'<idle>'` for 0, `'<...>'` otherwise). */
  comm?: (pid: number) => string;
  /** Event ids skipped without counting (e.g. markers when they are not wanted). */
  ignoreIds?: Iterable<number>;
}

interface CompiledEvent {
  system: string;
  name: string;
  names: string[];
  readers: FieldReader[];
  pidOffset: number;
  pidSize: number;
  pidSigned: boolean;
}

const COMMIT_MASK = (1 << 27) - 1;
const MISSED_EVENTS = 0x80000000;
const MISSED_STORED = 0x40000000;
/** Absolute timestamps lack the top 5 bits: they come from the page timestamp. */
const TS_MSB = 0xf8n << 56n;
const TWO_27 = 134217728;

/** Default comm resolution, as trace-cmd prints without saved_cmdlines. */
export function defaultComm(pid: number): string {
  return pid === 0 ? '<idle>' : '<...>';
}

/**
 * Parses pages of one kernel's ring buffer, with the field readers of every known event compiled
 * once (no per-event lookups beyond a Map get).
 */
export class FtracePageParser {
  private readonly events = new Map<number, CompiledEvent>();
  private readonly ignore: Set<number>;
  private readonly layout: FtracePageLayout;
  private readonly header: FtraceEventHeaderLayout;
  private readonly le: boolean;
  private readonly comm: (pid: number) => string;
  private readonly typeOffset: number;

  constructor(formats: readonly FtraceEventFormat[], options: FtracePageParserOptions = {}) {
    this.layout = options.layout ?? DEFAULT_PAGE_LAYOUT;
    this.header = options.header ?? DEFAULT_EVENT_HEADER;
    this.le = options.littleEndian ?? true;
    this.comm = options.comm ?? defaultComm;
    this.ignore = new Set(options.ignoreIds ?? []);
    let typeOffset = 0;
    for (const f of formats) {
      const type = f.commonFields.find((c) => c.name === 'common_type');
      if (type) typeOffset = type.offset;
      const pid = f.commonFields.find((c) => c.name === 'common_pid');
      const isPrint = f.system === 'ftrace' && f.name === 'print';
      this.events.set(f.id, {
        system: f.system,
        name: f.name,
        names: f.fields.map((x) => x.name),
        readers: f.fields.map((x) => compileField(x, this.le, isPrint && x.name === 'buf')),
        pidOffset: pid?.offset ?? 4,
        pidSize: pid?.size ?? 4,
        pidSigned: pid?.signed ?? true,
      });
    }
    this.typeOffset = typeOffset;
  }

  /** The formats' ids this parser decodes. */
  knownIds(): number[] {
    return [...this.events.keys()];
  }

  /**
   * Parses one page, appending its events (in timestamp order) to `out`. On a malformed page
   * nothing is appended and `error` says why.
   * @param page the bytes read (a whole page; `length` may be shorter when the read was)
   */
  parse(page: Uint8Array, cpu: number, out: FtraceEvent[], length = page.byteLength): FtracePageResult {
    const result: FtracePageResult = { events: 0, missed: 0, missedUncounted: false, undecodable: 0 };
    const { dataOffset, commitOffset, commitSize, timestampOffset, pageSize } = this.layout;
    const le = this.le;
    const avail = Math.min(length, page.byteLength, pageSize);
    if (avail < dataOffset) {
      result.error = `page of ${length} bytes is shorter than its ${dataOffset}-byte header`;
      return result;
    }
    const buf = Buffer.isBuffer(page) ? page : Buffer.from(page.buffer, page.byteOffset, page.byteLength);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const pageTs = view.getBigUint64(timestampOffset, le);
    // The flags are bits 31/30 of the commit long: in its low 32-bit word either way.
    const commit = view.getUint32(commitSize === 8 && !le ? commitOffset + 4 : commitOffset, le);
    const dataLen = commit & COMMIT_MASK;
    const end = dataOffset + dataLen;
    if (end > avail) {
      result.error = `page commit says ${dataLen} bytes of data but only ${avail - dataOffset} were read`;
      return result;
    }
    if (commit & MISSED_EVENTS) {
      if (commit & MISSED_STORED && end + commitSize <= avail) {
        result.missed = Number(readInt(view, end, commitSize, false, le));
      } else {
        result.missed = 1;
        result.missedUncounted = true;
      }
    }
    const { typeLenBits, timeDeltaBits, padding, timeExtend, timeStamp, dataMaxTypeLen } = this.header;
    const typeMask = (1 << typeLenBits) - 1;
    const deltaMask = timeDeltaBits >= 32 ? 0xffffffff : (1 << timeDeltaBits) - 1;
    const startCount = out.length;
    let base = pageTs; // bigint: the last absolute time
    let accum = 0; // ns since `base`, kept as a number while it is exact
    let pos = dataOffset;
    let error: string | undefined;
    while (pos < end) {
      if (pos + 4 > end) {
        error = `event header at offset ${pos} runs past the data end ${end}`;
        break;
      }
      const word = view.getUint32(pos, le);
      const typeLen = le ? word & typeMask : word >>> timeDeltaBits;
      const delta = le ? word >>> typeLenBits : word & deltaMask;
      if (typeLen === padding) {
        if (delta === 0) break; // the rest of the page is unused
        if (pos + 8 > end) {
          error = `padding at offset ${pos} has no length`;
          break;
        }
        const skip = view.getUint32(pos + 4, le);
        accum += delta;
        const next = pos + 4 + skip;
        if (skip < 4 || next > end) {
          error = `padding at offset ${pos} of ${skip} bytes runs past the data end ${end}`;
          break;
        }
        pos = next;
        continue;
      }
      if (typeLen === timeExtend || typeLen === timeStamp) {
        if (pos + 8 > end) {
          error = `time ${typeLen === timeExtend ? 'extend' : 'stamp'} at offset ${pos} is cut`;
          break;
        }
        const upper = view.getUint32(pos + 4, le);
        if (typeLen === timeExtend) {
          if (upper < 0x4000000 && accum < 2 ** 52) accum += upper * TWO_27 + delta;
          else {
            base += BigInt(accum) + ((BigInt(upper) << 27n) | BigInt(delta));
            accum = 0;
          }
        } else {
          base = (BigInt(upper) << 27n) | BigInt(delta) | (pageTs & TS_MSB);
          accum = 0;
        }
        pos += 8;
        continue;
      }
      let start: number;
      let len: number;
      let next: number;
      if (typeLen === 0) {
        if (pos + 8 > end) {
          error = `event at offset ${pos} has no length word`;
          break;
        }
        const l = view.getUint32(pos + 4, le);
        if (l < 4) {
          error = `event at offset ${pos} has length ${l}`;
          break;
        }
        start = pos + 8;
        len = l - 4;
        // Plain arithmetic: a corrupt length near 2^32 must not wrap through 32-bit bit operations.
        next = start + Math.ceil(len / 4) * 4;
      } else if (typeLen <= dataMaxTypeLen) {
        start = pos + 4;
        len = typeLen * 4;
        next = start + len;
      } else {
        error = `unknown event type_len ${typeLen} at offset ${pos}`;
        break;
      }
      if (next > end) {
        error = `event at offset ${pos} of ${len} bytes runs past the data end ${end}`;
        break;
      }
      accum += delta;
      pos = next;
      if (len < this.typeOffset + 2) {
        result.undecodable++;
        continue;
      }
      const id = view.getUint16(start + this.typeOffset, le);
      const ev = this.events.get(id);
      if (ev === undefined) {
        if (!this.ignore.has(id)) {
          result.undecodable++;
          result.undecodableId ??= id;
        }
        continue;
      }
      const fields: Record<string, FtraceFieldValue> = {};
      let ok = ev.pidOffset + ev.pidSize <= len;
      for (let k = 0; ok && k < ev.readers.length; k++) {
        const v = ev.readers[k]!(view, buf, start, len);
        if (v === undefined) ok = false;
        else fields[ev.names[k]!] = v;
      }
      if (!ok) {
        result.undecodable++;
        result.undecodableId ??= id;
        continue;
      }
      const pid = Number(readInt(view, start + ev.pidOffset, ev.pidSize, ev.pidSigned, le));
      out.push({ ts: base + BigInt(accum), cpu, pid, comm: this.comm(pid), system: ev.system, name: ev.name, fields });
    }
    if (error !== undefined) {
      out.length = startCount;
      result.undecodable = 0;
      delete result.undecodableId;
      result.error = error;
      return result;
    }
    result.events = out.length - startCount;
    return result;
  }
}

/**
 * Parses one ring-buffer page (pure: no kernel needed).
 * @param buf the page bytes
 * @param formats the formats of the events that may be on it, or a prepared parser (cheaper when
 *   parsing many pages)
 * @returns the page's events and what {@link FtracePageParser.parse} reports
 */
export function parseRingBufferPage(
  buf: Uint8Array,
  formats: readonly FtraceEventFormat[] | FtracePageParser,
  options: FtracePageParserOptions & { cpu?: number } = {},
): FtracePageResult & { list: FtraceEvent[] } {
  const parser = formats instanceof FtracePageParser ? formats : new FtracePageParser(formats, options);
  const list: FtraceEvent[] = [];
  const r = parser.parse(buf, options.cpu ?? 0, list);
  return { ...r, list };
}

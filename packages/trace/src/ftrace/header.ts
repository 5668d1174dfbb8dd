/**
 * The ring-buffer layout the kernel describes in `events/header_page` (the page header: timestamp,
 * commit word, where the data starts, how big a page is) and `events/header_event` (the event
 * header: type_len/time_delta bit widths and the reserved type_len values). The reader follows
 * these files rather than hard-coding, and falls back to the x86_64 layout for what they omit.
 * @packageDocumentation
 */

/** Where things are in a ring-buffer page (from `events/header_page`). */
export interface FtracePageLayout {
  /** Offset and size of the page's absolute timestamp (u64). */
  timestampOffset: number;
  timestampSize: number;
  /** Offset and size of the commit word (`local_t`, a long: 8 bytes on 64-bit). */
  commitOffset: number;
  commitSize: number;
  /** Where event data starts. */
  dataOffset: number;
  /** The whole page: dataOffset + the data field's size (4096 on x86_64). */
  pageSize: number;
}

/** The event header encoding (from `events/header_event`). */
export interface FtraceEventHeaderLayout {
  typeLenBits: number;
  timeDeltaBits: number;
  /** type_len of padding (29), time extend (30), absolute time stamp (31). */
  padding: number;
  timeExtend: number;
  timeStamp: number;
  /** Largest type_len that means "data of type_len * 4 bytes" (28). */
  dataMaxTypeLen: number;
}

/** x86_64's page layout (and every 64-bit kernel's). */
export const DEFAULT_PAGE_LAYOUT: Readonly<FtracePageLayout> = Object.freeze({
  timestampOffset: 0,
  timestampSize: 8,
  commitOffset: 8,
  commitSize: 8,
  dataOffset: 16,
  pageSize: 4096,
});

/** The event header every kernel since 2.6.31 uses. */
export const DEFAULT_EVENT_HEADER: Readonly<FtraceEventHeaderLayout> = Object.freeze({
  typeLenBits: 5,
  timeDeltaBits: 27,
  padding: 29,
  timeExtend: 30,
  timeStamp: 31,
  dataMaxTypeLen: 28,
});

const FIELD = /field:\s*(.+?)\s+(\w+);\s*offset:\s*(\d+);\s*size:\s*(\d+);/g;

/**
 * Parses `events/header_page`. Fields the text lacks keep the x86_64 defaults; a layout that
 * cannot be a page (data outside the page, header overlapping data) gives the defaults.
 */
export function parseHeaderPage(text: string): FtracePageLayout {
  const layout: FtracePageLayout = { ...DEFAULT_PAGE_LAYOUT };
  let dataSize: number | undefined;
  for (const m of text.matchAll(FIELD)) {
    const name = m[2];
    const offset = Number(m[3]);
    const size = Number(m[4]);
    if (name === 'timestamp') {
      layout.timestampOffset = offset;
      layout.timestampSize = size;
    } else if (name === 'commit') {
      layout.commitOffset = offset;
      layout.commitSize = size;
    } else if (name === 'data') {
      layout.dataOffset = offset;
      dataSize = size;
    }
  }
  if (dataSize !== undefined) layout.pageSize = layout.dataOffset + dataSize;
  const sane =
    layout.timestampSize === 8 &&
    (layout.commitSize === 4 || layout.commitSize === 8) &&
    layout.timestampOffset + 8 <= layout.dataOffset &&
    layout.commitOffset + layout.commitSize <= layout.dataOffset &&
    layout.pageSize > layout.dataOffset &&
    layout.pageSize <= 1 << 20;
  return sane ? layout : { ...DEFAULT_PAGE_LAYOUT };
}

/** Parses `events/header_event`; what it lacks (or gets wrong) keeps the defaults. */
export function parseHeaderEvent(text: string): FtraceEventHeaderLayout {
  const h: FtraceEventHeaderLayout = { ...DEFAULT_EVENT_HEADER };
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  h.typeLenBits = num(/type_len\s*:\s*(\d+)\s*bits/) ?? h.typeLenBits;
  h.timeDeltaBits = num(/time_delta\s*:\s*(\d+)\s*bits/) ?? h.timeDeltaBits;
  h.padding = num(/padding\s*:\s*type\s*==\s*(\d+)/) ?? h.padding;
  h.timeExtend = num(/time_extend\s*:\s*type\s*==\s*(\d+)/) ?? h.timeExtend;
  h.timeStamp = num(/time_stamp\s*:\s*type\s*==\s*(\d+)/) ?? h.timeStamp;
  h.dataMaxTypeLen = num(/data max type_len\s*==\s*(\d+)/) ?? h.dataMaxTypeLen;
  const max = 2 ** h.typeLenBits - 1;
  const sane =
    h.typeLenBits + h.timeDeltaBits === 32 &&
    h.typeLenBits >= 2 &&
    [h.padding, h.timeExtend, h.timeStamp, h.dataMaxTypeLen].every((v) => v >= 1 && v <= max) &&
    h.dataMaxTypeLen < Math.min(h.padding, h.timeExtend, h.timeStamp);
  return sane ? h : { ...DEFAULT_EVENT_HEADER };
}

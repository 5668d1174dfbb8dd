/**
 * The tracefs `format` file of an event (`events/<system>/<name>/format`): its id, and each
 * field's C declaration, offset, size and signedness, classified into what the page parser
 * reads (integers of every size and sign, fixed arrays, `char[]` strings, `__data_loc` /
 * `__rel_loc` dynamic arrays, a trailing `[]` array).
 * @packageDocumentation
 */

/** How a field's bytes are read. */
export type FtraceFieldKind =
  /** A 1, 2, 4 or 8-byte integer (pointers, enums, bools included). */
  | 'int'
  /** A fixed `char[N]` (or `char[]` at the end of the event): text up to the first NUL. */
  | 'string'
  /** A fixed array of integers: `size / elementSize` elements. */
  | 'array'
  /** `__data_loc char[]` / `__rel_loc char[]`: text at an offset the u32 at the field gives. */
  | 'dynString'
  /** `__data_loc <int>[]` / `__rel_loc`: integers at an offset the u32 gives. */
  | 'dynArray'
  /** Anything else (an odd size, an unknown declaration): the raw bytes, as number[]. */
  | 'bytes';

/** One field of an event's format. */
export interface FtraceField {
  /** The field name (`prev_comm`). */
  name: string;
  /** The C declaration's type part (`char`, `__data_loc char[]`, `unsigned long`). */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  kind: FtraceFieldKind;
  /** Element size for arrays (1 for strings and bytes); the size for ints. */
  elementSize: number;
  /** For `__rel_loc`: the dynamic offset counts from the end of this field. */
  relative: boolean;
  /** `char buf[]`-style: the array runs from `offset` to the end of the event. */
  tail: boolean;
}

/** One event's parsed format file. */
export interface FtraceEventFormat {
  /** The system (directory under events/); '' when the text did not say and the caller did not. */
  system: string;
  name: string;
  /** The id the kernel writes in `common_type`. */
  id: number;
  /** The `common_*` fields (common_type, common_flags, common_preempt_count, common_pid). */
  commonFields: FtraceField[];
  /** The event's own fields, in file order. */
  fields: FtraceField[];
}

const FIELD_LINE = /^\s*field:\s*(.+?);\s*offset:\s*(\d+);\s*size:\s*(\d+);(?:\s*signed:\s*(-?\d+);)?/;
const INT_SIZES = new Set([1, 2, 4, 8]);
/** Largest offset/size accepted: an event is at most one page. */
const MAX_FIELD_EXTENT = 1 << 20;

/** Splits `unsigned long args[6]` into type `unsigned long`, name `args`, array text `6` (or '' for `[]`, undefined for none). */
function splitDeclaration(decl: string): { type: string; name: string; array: string | undefined } | undefined {
  const m = /^(.*?)([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[([^\]]*)\])?\s*$/.exec(decl.trim());
  if (!m) return undefined;
  return { type: (m[1] ?? '').trim(), name: m[2] ?? '', array: m[3] };
}

function isCharType(type: string): boolean {
  return /\bchar\b/.test(type);
}

/** Size in bytes of a C element type, when it says (`u8`, `s64`, `int`, `long`...); undefined otherwise. */
function elementSizeOf(type: string): number | undefined {
  const t = type
    .replace(/\b(const|volatile|unsigned|signed|__data_loc|__rel_loc)\b/g, '')
    .replace(/\[\]/g, '')
    .trim();
  const fixed = /^(?:__)?[us](8|16|32|64)$/.exec(t) ?? /^u?int(8|16|32|64)_t$/.exec(t);
  if (fixed) return Number(fixed[1]) / 8;
  if (t === 'char' || t === 'bool' || t === '_Bool') return 1;
  if (t === 'short' || t === 'short int') return 2;
  if (t === 'int' || t === '' || t === 'pid_t' || t === 'gfp_t') return 4;
  if (t === 'long' || t === 'long long' || t === 'long int' || t === 'long long int' || t.endsWith('*') || t === 'size_t' || t === 'dma_addr_t') return 8;
  return undefined;
}

/** Classifies one `field:` line. Never throws: what it cannot classify becomes `bytes`. */
export function classifyField(decl: string, offset: number, size: number, signed: boolean): FtraceField {
  const parts = splitDeclaration(decl);
  const base = { offset, size, signed, relative: false, tail: false };
  if (!parts) return { ...base, name: decl.trim(), type: decl.trim(), kind: 'bytes', elementSize: 1 };
  const { type, name, array } = parts;
  const dynamic = /^__(data|rel)_loc\b/.test(type);
  if (dynamic) {
    const relative = type.startsWith('__rel_loc');
    if (size !== 4) return { ...base, name, type, kind: 'bytes', elementSize: 1 };
    if (isCharType(type)) return { ...base, name, type, relative, kind: 'dynString', elementSize: 1 };
    const el = elementSizeOf(type);
    return { ...base, name, type, relative, kind: el !== undefined && INT_SIZES.has(el) ? 'dynArray' : 'bytes', elementSize: el ?? 1 };
  }
  if (array !== undefined) {
    const tail = array === '' || size === 0;
    if (isCharType(type)) return { ...base, name, type, tail, kind: 'string', elementSize: 1 };
    const count = array === '' ? undefined : Number(array);
    let el = count !== undefined && Number.isInteger(count) && count > 0 && size % count === 0 ? size / count : elementSizeOf(type);
    if (el === undefined || !INT_SIZES.has(el)) el = 1;
    return { ...base, name, type, tail, kind: el === 1 && elementSizeOf(type) === undefined ? 'bytes' : 'array', elementSize: el };
  }
  if (INT_SIZES.has(size)) return { ...base, name, type, kind: 'int', elementSize: size };
  return { ...base, name, type, kind: 'bytes', elementSize: 1 };
}

/**
 * Parses a tracefs event `format` file.
 * @param text the file's text
 * @param system the event's system (the directory), since the file does not name it
 * @returns the format, or undefined when the text has no `name:`/`ID:` or no field (a file this
 *   parser does not know: the caller skips that event and says so)
 */
export function parseFormatFile(text: string, system = ''): FtraceEventFormat | undefined {
  let name: string | undefined;
  let id: number | undefined;
  const commonFields: FtraceField[] = [];
  const fields: FtraceField[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('print fmt:')) break;
    const nm = /^name:\s*(\S+)\s*$/.exec(line);
    if (nm) {
      name = nm[1];
      continue;
    }
    const idm = /^ID:\s*(\d+)\s*$/.exec(line);
    if (idm) {
      id = Number(idm[1]);
      continue;
    }
    const f = FIELD_LINE.exec(line);
    if (!f) continue;
    const offset = Number(f[2]);
    const size = Number(f[3]);
    if (offset > MAX_FIELD_EXTENT || size > MAX_FIELD_EXTENT) continue;
    const field = classifyField(f[1] ?? '', offset, size, f[4] === '1');
    (field.name.startsWith('common_') ? commonFields : fields).push(field);
  }
  if (name === undefined || id === undefined || id > 0xffff) return undefined;
  if (!commonFields.some((f) => f.name === 'common_type') && fields.length === 0) return undefined;
  return { system, name, id, commonFields, fields };
}

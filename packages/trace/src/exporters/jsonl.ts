/**
 * JSON Lines exporter.
 *
 * @packageDocumentation
 */
import type { TraceEvent, TraceFields } from '../schema.js';
import { TraceError } from '../errors.js';
import { StreamExporter, jsonWithBigints, type StreamExporterOptions } from './base.js';

/** Options of {@link JsonlExporter}. */
export type JsonlExporterOptions = StreamExporterOptions;

/**
 * Serialise one event as a single-line JSON object (no trailing newline).
 *
 * Bigints are written as decimal strings: `ts`, `origTs`, `errorBoundNs`, and any bigint
 * field value. Property order is fixed: source, seq, ts, origTs, errorBoundNs, kind, text,
 * fields. Non-finite numbers in fields become `null` (JSON has no NaN/Infinity).
 */
export function eventToJsonLine(e: TraceEvent): string {
  // Built by hand rather than JSON.stringify with a replacer: the shape is fixed, and this
  // avoids a replacer call per property on the hot path.
  let s =
    `{"source":${JSON.stringify(e.source)},"seq":${e.seq},"ts":"${e.ts}","origTs":"${e.origTs}"` +
    `,"errorBoundNs":"${e.errorBoundNs}","kind":${JSON.stringify(e.kind)}`;
  if (e.text !== undefined) s += `,"text":${JSON.stringify(e.text)}`;
  if (e.fields !== undefined) s += `,"fields":${jsonWithBigints(e.fields)}`;
  return s + '}';
}

/**
 * Parse a line written by {@link JsonlExporter} back into an event. `ts`, `origTs` and
 * `errorBoundNs` become bigints again; bigint FIELD values stay decimal strings, because the
 * file does not record that they were bigints.
 *
 * @throws TraceError `ERR_TRACE_BAD_LINE` if the line is not such an object or not JSON.
 */
export function parseJsonLine(line: string): TraceEvent {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch (err) {
    throw new TraceError('ERR_TRACE_BAD_LINE', `parseJsonLine: not JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof o !== 'object' || o === null) throw new TraceError('ERR_TRACE_BAD_LINE', 'parseJsonLine: not a trace event (not a JSON object)');
  const big = (k: string): bigint => {
    const v = o[k];
    if (typeof v !== 'string' || !/^-?\d+$/.test(v)) {
      throw new TraceError('ERR_TRACE_BAD_LINE', `parseJsonLine: '${k}' must be a decimal string, got ${JSON.stringify(v)}`);
    }
    return BigInt(v);
  };
  if (typeof o['source'] !== 'string' || typeof o['kind'] !== 'string' || typeof o['seq'] !== 'number') {
    throw new TraceError('ERR_TRACE_BAD_LINE', 'parseJsonLine: not a trace event (need string source/kind, number seq)');
  }
  const e: TraceEvent = {
    source: o['source'],
    seq: o['seq'],
    ts: big('ts'),
    origTs: big('origTs'),
    errorBoundNs: big('errorBoundNs'),
    kind: o['kind'],
  };
  if (typeof o['text'] === 'string') e.text = o['text'];
  if (o['fields'] !== undefined && o['fields'] !== null && typeof o['fields'] === 'object') {
    e.fields = o['fields'] as TraceFields;
  }
  return e;
}

/**
 * Writes one JSON object per line ({@link eventToJsonLine}); bigints are decimal strings.
 * Read back with {@link parseJsonLine}.
 */
export class JsonlExporter extends StreamExporter {
  constructor(options: JsonlExporterOptions) {
    super(options);
  }

  /** {@inheritDoc TraceExporter.write} */
  write(events: readonly TraceEvent[]): boolean {
    if (events.length === 0) return !this.backedUp;
    let chunk = '';
    for (const e of events) chunk += eventToJsonLine(e) + '\n';
    this.tryWrite(chunk, events.length);
    return !this.backedUp;
  }
}

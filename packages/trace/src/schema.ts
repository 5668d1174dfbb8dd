/**
 * Trace event schemas.
 *
 * These TypeBox schemas are the single source of truth for a trace event: the static
 * types below derive from them, and the wire registry (later) will register
 * {@link TraceBatch} under a TYPE_ id so inbound batches are validated by a compiled checker.
 *
 * All nanosecond quantities are `bigint` end to end (PROTOCOL.md §3: a bigint travels as a 64-bit integer): a host
 * monotonic clock reading already exceeds 2^53 ns after ~104 days of uptime, and clock
 * offsets between guest and host can be arbitrary, so `number` would silently lose precision.
 *
 * @packageDocumentation
 */
import { Type, type Static } from '@sinclair/typebox';
import { invalidArgument } from './errors.js';

/** Upper bound on a source name; keeps per-source maps and exporter labels sane. */
export const MAX_SOURCE_LENGTH = 256;

/*
 * Bounds a collector relies on: every string, map and array a guest sends has a declared
 * maximum, so the wire's shape check refuses an oversized one at its header byte and the
 * decoding cost of any batch stays proportional to a small frame (ARCHITECTURE.md, "A guest is
 * hostile"). An agent refuses (and counts) an event over them at `emit`, never at send time.
 */
/** Longest `text` of an event, and longest string value of a field (UTF-16 code units). */
export const MAX_TEXT_LENGTH = 4096;
/** Most entries in an event's `fields`. */
export const MAX_FIELDS = 16;
/**
 * Longest field name. (TypeBox's record keys carry no length, so the wire does not check it:
 * the agent refuses longer names, and the collector's maxFrame bounds the rest.)
 */
export const MAX_FIELD_NAME_LENGTH = 64;
/** Most events in one trace batch. */
export const MAX_BATCH_EVENTS = 4096;

/** A value in {@link TraceEvent.fields}: string, number, boolean or bigint. */
export const TraceFieldValue = Type.Union([Type.String({ maxLength: MAX_TEXT_LENGTH }), Type.Number(), Type.Boolean(), Type.BigInt()]);
/** Static type of {@link TraceFieldValue}. */
export type TraceFieldValue = Static<typeof TraceFieldValue>;

/** Free-form structured payload of an event: a record of string → {@link TraceFieldValue}. */
export const TraceFields = Type.Record(Type.String(), TraceFieldValue, { maxProperties: MAX_FIELDS });
/** Static type of {@link TraceFields}. */
export type TraceFields = Static<typeof TraceFields>;

/**
 * Well-known field names. Exporters understand these; everything else is passed through.
 */
export const TraceFieldNames = {
  /**
   * Duration of the traced operation in ns (number or bigint). When present the event is a
   * span that STARTS at `ts` (Perfetto exporter emits a complete event, `ph:'X'`).
   */
  durationNs: 'durationNs',
  /**
   * `true` on an event a collector wrote to its export out of timeline order: it arrived after
   * later events had been released (late), so it is kept, marked, rather than lost.
   */
  late: 'late',
} as const;

/** The properties shared by {@link TraceEvent} and {@link TraceBatchEvent}. */
const eventProperties = {
  /** Sequence number, per source, starting anywhere ≥ 0, increasing by one per event. */
  seq: Type.Integer({ minimum: 0 }),
  /** Timestamp in the HOST clock domain (monotonic ns, `process.hrtime.bigint()` on the host). */
  ts: Type.BigInt(),
  /** Timestamp in the source's own clock (equal to `ts` for host events). */
  origTs: Type.BigInt(),
  /**
   * Error bound of the origTs → ts conversion, in ns (half the round-trip delay of the clock
   * sample used). `0n` for host events.
   */
  errorBoundNs: Type.BigInt({ minimum: 0n }),
  /** Event kind, e.g. `'message'`. Used as category by exporters. */
  kind: Type.String({ maxLength: 256 }),
  /** Human-readable text (the original demo's message string). */
  text: Type.Optional(Type.String({ maxLength: MAX_TEXT_LENGTH })),
  /** Structured fields. */
  fields: Type.Optional(TraceFields),
};

/**
 * One trace event, as the merge and the exporters see it.
 *
 * `source` names who produced it (`'host'` or a guest name); `(source, seq)` identifies it;
 * `ts` orders it on the merged timeline.
 */
export const TraceEvent = Type.Object(
  {
    /** Producer: `'host'` or a guest name. */
    source: Type.String({ minLength: 1, maxLength: MAX_SOURCE_LENGTH }),
    ...eventProperties,
  },
  // Both ends of a connection agree on the registry fingerprint in HELLO, so an unknown
  // property is a bug or an attack, not a newer peer: reject it.
  { additionalProperties: false },
);
/** Static type of {@link TraceEvent}. */
export type TraceEvent = Static<typeof TraceEvent>;

/**
 * One event inside a {@link TraceBatch}: a {@link TraceEvent} without `source`, which the batch
 * carries once (a batch always has a single source; repeating it per event costs bytes at
 * 100k events/s for no information).
 */
export const TraceBatchEvent = Type.Object(eventProperties, { additionalProperties: false });
/** Static type of {@link TraceBatchEvent}. */
export type TraceBatchEvent = Static<typeof TraceBatchEvent>;

/**
 * A batch of events from one source, the unit shipped guest → host (and host hook worker →
 * visualize worker).
 *
 * Events in a batch, and successive batches from one source, are in non-decreasing `ts` order
 * (the merge relies on it; see `WatermarkMerge`).
 *
 * `watermark`, when present, is a promise in the host clock domain: no later event of this
 * source will have `ts` below it. An agent with nothing to send can ship an empty batch with a
 * watermark as a heartbeat, so the host merge releases other sources' events without waiting
 * for the lateness bound. The collector must stamp `source` from the authenticated peer name
 * rather than trust the value a guest sends.
 */
export const TraceBatch = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: MAX_SOURCE_LENGTH }),
    events: Type.Array(TraceBatchEvent, { maxItems: MAX_BATCH_EVENTS }),
    watermark: Type.Optional(Type.BigInt()),
  },
  { additionalProperties: false },
);
/** Static type of {@link TraceBatch}. */
export type TraceBatch = Static<typeof TraceBatch>;

/**
 * All trace schemas by name, for registering in the wire registry.
 *
 * The schemas deliberately carry no `$id`: nested copies of the same `$id` inside
 * {@link TraceBatch} and {@link TraceEvent} would collide in validators that index by `$id`;
 * the registry names them instead.
 */
export const TraceSchemas = {
  TraceFieldValue,
  TraceFields,
  TraceEvent,
  TraceBatchEvent,
  TraceBatch,
} as const;

/**
 * Expand a batch into full events.
 *
 * @param batch - the batch.
 * @param source - source to stamp, defaults to `batch.source`; the collector passes the
 *   authenticated peer name here.
 * @returns new event objects (the batch is not modified).
 */
export function eventsFromBatch(batch: TraceBatch, source: string = batch.source): TraceEvent[] {
  const out = new Array<TraceEvent>(batch.events.length);
  for (let i = 0; i < batch.events.length; i++) {
    const e = batch.events[i]!;
    const ev: TraceEvent = {
      source,
      seq: e.seq,
      ts: e.ts,
      origTs: e.origTs,
      errorBoundNs: e.errorBoundNs,
      kind: e.kind,
    };
    if (e.text !== undefined) ev.text = e.text;
    if (e.fields !== undefined) ev.fields = e.fields;
    out[i] = ev;
  }
  return out;
}

/**
 * Pack events of one source into a batch (drops the per-event `source`).
 *
 * @param source - the batch's source; events whose `source` differs are a programming error
 *   and cause a `RangeError`, because mixing sources would corrupt per-source ordering.
 * @param events - events in non-decreasing `ts` order.
 * @param watermark - optional watermark promise (see {@link TraceBatch}).
 */
export function batchFromEvents(source: string, events: readonly TraceEvent[], watermark?: bigint): TraceBatch {
  const out = new Array<TraceBatchEvent>(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.source !== source) {
      throw invalidArgument(`batchFromEvents: event ${i} has source '${e.source}', batch source is '${source}'; ` + 'split events by source before batching');
    }
    const be: TraceBatchEvent = {
      seq: e.seq,
      ts: e.ts,
      origTs: e.origTs,
      errorBoundNs: e.errorBoundNs,
      kind: e.kind,
    };
    if (e.text !== undefined) be.text = e.text;
    if (e.fields !== undefined) be.fields = e.fields;
    out[i] = be;
  }
  const batch: TraceBatch = { source, events: out };
  if (watermark !== undefined) batch.watermark = watermark;
  return batch;
}

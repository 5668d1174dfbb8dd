/**
 * Events whose large binary property travels as a BODY (PROTOCOL.md §12, feature "bulk"):
 * encoded at send() into a small `[key, rest]` plus the caller's own buffer, not copied. The
 * event queue holds a fresh view of that buffer (its length is what the queue's byte bound
 * counts); this table maps the view to the rest of the event until the writer takes it, and
 * the writer sends a BODY frame or, to a peer without "bulk", the plain payload (one copy, as
 * before). The caller must not modify the buffer until the event is written (flush()).
 */
import { BULK_THRESHOLD, type Codec } from '@vsock-rpc/wire';

/** A value split for a BODY frame (Codec.encodeEntryBulk). */
export type BulkPayload = NonNullable<ReturnType<Codec['encodeEntryBulk']>>;

/** The rest of a queued bulk event. */
export interface QueuedBulk {
  readonly bulk: BulkPayload;
  /** The plain payload, for a peer without "bulk". */
  readonly join: () => Buffer;
}

const table = new WeakMap<Buffer, QueuedBulk>();

/** Registers a split event; returns the payload to queue (a new view of the body). */
export function queueBulk(codec: Codec, bulk: BulkPayload): Buffer {
  const b = bulk.body;
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  table.set(view, { bulk, join: () => codec.joinBulk(bulk) });
  return view;
}

/** The bulk event behind a queued payload, if it is one (removed from the table). */
export function takeBulk(payload: Buffer): QueuedBulk | undefined {
  // Only payloads at least the threshold long can be bulk views: small events skip the lookup.
  if (payload.length < BULK_THRESHOLD) return undefined;
  const q = table.get(payload);
  if (q) table.delete(payload);
  return q;
}

/** A stream DATA message as it is queued: a plain payload, or one split for a BODY frame. */
export type DataPayload = Buffer | BulkPayload;

/** Bytes a DATA message counts against the stream's credit: its frame's payload length (PROTOCOL.md §11, §12). */
export function dataBytes(payload: DataPayload): number {
  return Buffer.isBuffer(payload) ? payload.length : bulkLength(payload);
}

/** Bytes of a BODY frame's payload (after the 12-byte header). */
export function bulkLength(bulk: BulkPayload): number {
  return 4 + bulk.value.length + bulk.body.length;
}

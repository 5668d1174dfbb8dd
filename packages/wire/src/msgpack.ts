import { C1, Packr, type Options } from 'msgpackr';
import { DecodeError } from './errors.js';

/**
 * The one MessagePack configuration of the protocol (PROTOCOL.md, "Payloads"):
 * - plain maps and arrays only: no msgpackr records or structures, so a peer never depends on
 *   state the other side did not send in the same frame, and any MessagePack library can talk to us;
 * - bigint ⇄ int64/uint64 (0xd3/0xcf) and every 64-bit integer decodes as bigint, so nanosecond
 *   timestamps keep full precision past 2^53;
 * - numbers are ints of at most 32 bits or float64; binary is bin 8/16/32 ⇄ Uint8Array;
 * - properties whose value is undefined are left out (an absent optional field).
 */
const options: Options = {
  useRecords: false,
  int64AsType: 'bigint',
  mapsAsObjects: true,
  // fixmap/map16/map32 by actual size (msgpackr otherwise writes every object as map16):
  // smaller frames, and the bytes PROTOCOL.md shows.
  variableMapSize: true,
  moreTypes: false,
  bundleStrings: false,
  // Decoded binary must not alias the payload by default: a payload is often a view into a
  // socket chunk the transport may reuse, or that holds other frames (a small binary kept by a
  // handler would pin the whole chunk). unpack(…, aliasBinary) lifts this for owned buffers.
  copyBuffers: true,
  // No extension types on the wire: an undefined the packer does not skip (a property outside
  // the schema, an array element of an Unknown) is nil, not msgpackr's fixext "undefined".
  encodeUndefinedAsNil: true,
};
/** The packer (and unpacker) for values that never hold undefined: msgpackr's fast object path. */
export const packr = new Packr(options);
/**
 * The packer that leaves undefined properties out, for schemas with optional fields. About 15%
 * slower (msgpackr's generic object writer), so only those schemas use it. `skipValues` is
 * honoured by msgpackr's packer (pack.js) but missing from its Options typing.
 */
export const packrSkippingUndefined = new Packr({ ...options, skipValues: [undefined] } as Options);

/** The unpacker whose binary values are views into the input: see unpack's `aliasBinary`. */
const packrAliasing = new Packr({ ...options, copyBuffers: false });

/** Encodes `value` with the protocol's MessagePack rules. The buffer is not reused by later calls. */
export function pack(value: unknown): Buffer {
  return packrSkippingUndefined.pack(value);
}

/** The packer suited to values of a schema (see mayContainUndefined). */
export function packerFor(mayHoldUndefined: boolean): (value: unknown) => Buffer {
  const p = mayHoldUndefined ? packrSkippingUndefined : packr;
  return (value) => p.pack(value);
}

/**
 * Decodes one MessagePack value that must fill `payload` (or its range start…end) exactly.
 * With `aliasBinary`, binary values are views into `payload` rather than copies: only for a
 * buffer nobody else will write to (a frame's {@link Frame.owned} payload), where it saves a copy
 * and an allocation per blob.
 */
export function unpack(payload: Uint8Array, start?: number, end?: number, aliasBinary = false): unknown {
  const p = aliasBinary ? packrAliasing : packr;
  // With a range, msgpackr reads in place and reuses the DataView it caches on the buffer.
  let value: unknown;
  try {
    value = start === undefined ? p.unpack(payload) : p.unpack(payload, { start, end });
  } catch (err) {
    throw new DecodeError('MessagePack value', err instanceof Error ? err.message : String(err), { cause: err });
  }
  // msgpackr returns a marker for 0xc1 ("never used" in MessagePack) instead of throwing.
  if (value === C1) throw new DecodeError('MessagePack value', '0xc1 is not a MessagePack value');
  return value;
}

import { Packr, type Options } from 'msgpackr';

/**
 * The one MessagePack configuration of the protocol (PROTOCOL.md, "Payloads"):
 * - plain maps and arrays only: no msgpackr records or structures, so a peer never depends on
 *   state the other side did not send in the same frame, and any MessagePack library can talk to us;
 * - bigint ⇄ int64/uint64 (0xd3/0xcf) and every 64-bit integer decodes as bigint, so nanosecond
 *   timestamps keep full precision past 2^53;
 * - numbers are ints of at most 32 bits or float64; binary is bin 8/16/32 ⇄ Uint8Array;
 * - properties whose value is undefined are left out (an absent optional field).
 */
// `skipValues` is honoured by msgpackr's packer (pack.js) but missing from its Options typing.
const options: Options & { skipValues: unknown[] } = {
  useRecords: false,
  int64AsType: 'bigint',
  mapsAsObjects: true,
  skipValues: [undefined],
  moreTypes: false,
  bundleStrings: false,
};
export const packr = new Packr(options);

/** Encodes `value` with the protocol's MessagePack rules. The buffer is not reused by later calls. */
export function pack(value: unknown): Buffer {
  return packr.pack(value);
}

/** Decodes one MessagePack value that must fill `payload` exactly. */
export function unpack(payload: Uint8Array): unknown {
  return packr.unpack(payload);
}

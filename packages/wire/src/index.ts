/**
 * @packageDocumentation
 * `@vsock-rpc/wire`: the registry of typed messages and methods, the MessagePack codec with
 * compiled TypeBox validation, the frame encoder/decoder, and the protocol's constants and
 * errors. PROTOCOL.md at the repository root is the normative description of the bytes.
 */
export * from './constants.js';
export * from './errors.js';
export * from './registry.js';
export { Codec, decodeWith, type CodecOptions } from './codec.js';
export { pack, unpack } from './msgpack.js';
export { FrameEncoder, encodeFrame, type FrameEncoderOptions } from './frame-encoder.js';
export { FrameDecoder, OWNED_MIN, type Frame, type FrameDecoderOptions } from './frame-decoder.js';
export * from './control.js';
export { canonicalJson } from './canonical-json.js';
export { escapeText, ESCAPE_TEXT_MAX } from './escape-text.js';

/**
 * Typed errors. Every error a user can meet carries a stable `code` and a message that says
 * what happened and what to do about it. All derive from {@link VsockRpcError}, the one base
 * class of every vsock-rpc package (from `@vsock-rpc/errors`, re-exported here so that
 * `import { VsockRpcError } from '@vsock-rpc/wire'` keeps working).
 */

import { VsockRpcError } from '@vsock-rpc/errors';
import { KIND_NAMES, Kind } from './constants.js';

export { VsockRpcError, isVsockRpcError, type VsockRpcErrorOptions } from '@vsock-rpc/errors';

/** The registry declaration is invalid (duplicate id or name, reserved id, bad id). */
export class RegistryDefinitionError extends VsockRpcError {
  constructor(message: string) {
    super('REGISTRY_DEFINITION', message);
  }
}

/** Base of errors raised while reading frames from a peer: the connection is unusable. */
export class ProtocolError extends VsockRpcError {}

/** A frame header announced a payload above the negotiated maximum. Nothing was allocated. */
export class FrameTooLargeError extends ProtocolError {
  constructor(
    readonly length: number,
    readonly maxFrame: number,
  ) {
    super('FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the maximum of ${maxFrame} bytes: raise maxFrame on both peers, or split the message`);
  }
}

/**
 * A header carried a kind byte that this connection does not accept: above 8 always, and a
 * stream kind (5..8) where streams are off (PROTOCOL.md §2: both HELLOs must list "streams").
 */
export class BadKindError extends ProtocolError {
  constructor(readonly kind: number) {
    super(
      'BAD_KIND',
      kind >= Kind.OPEN && kind <= Kind.RESET
        ? `frame kind ${kind} (${kindName(kind).toUpperCase()}) is a stream kind, used only where both HELLOs list the feature "streams" (PROTOCOL.md §2, §11): the peer sent it on a connection without streams`
        : `frame kind ${kind} is not defined (0..4, and 5..8 where both HELLOs list "streams"): the peer is not speaking vsock-rpc protocol 1, or the stream is corrupt`,
    );
  }
}

/** A header set flag bits this protocol version does not define, or a flag on the wrong kind. */
export class BadFlagsError extends ProtocolError {
  constructor(
    readonly flags: number,
    detail: string,
  ) {
    super('BAD_FLAGS', `frame flags 0x${flags.toString(16)} are invalid: ${detail}`);
  }
}

/** A frame named a TYPE_ id that the registry does not declare for that kind. */
export class UnknownTypeError extends ProtocolError {
  constructor(
    readonly typeId: number,
    readonly kind: number,
  ) {
    super(
      'UNKNOWN_TYPE',
      kind === 0
        ? `control type 0x${typeId.toString(16)} is not defined by protocol version 1 (0xff00 … 0xff06): the peer is broken or speaks another protocol`
        : `unknown TYPE_ id ${typeId} (0x${typeId.toString(16)}) for an ${kindName(kind).toUpperCase()} frame: both peers must use the same registry (compare their fingerprints)`,
    );
  }
}

/** The stream ended in the middle of a frame. */
export class TruncatedFrameError extends ProtocolError {
  constructor(
    readonly have: number,
    readonly need: number,
  ) {
    super('TRUNCATED_FRAME', `stream closed in the middle of a frame (${have} of ${need} bytes): the peer died or closed mid-write`);
  }
}

/** A payload was not valid MessagePack, or not of the shape its frame requires. */
export class DecodeError extends VsockRpcError {
  constructor(
    readonly typeName: string,
    /** What was wrong with the bytes. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super('DECODE_ERROR', `payload of '${typeName}' cannot be decoded: ${detail}`, options);
  }
}

/** A value does not match its TypeBox schema. `path` is the JSON pointer of the first failure. */
export class SchemaViolationError extends VsockRpcError {
  constructor(
    readonly typeName: string,
    readonly path: string,
    readonly detail: string,
    readonly direction: 'inbound' | 'outbound',
  ) {
    super(
      'SCHEMA_VIOLATION',
      `${direction} '${typeName}' violates its schema at '${path || '/'}': ${detail}` +
        (direction === 'inbound' ? ' (the peer sent a value its own types should have refused: check that both run the same registry)' : ''),
    );
  }
}

/** A name or id passed to the codec is not in the registry. */
export class UnknownNameError extends VsockRpcError {
  constructor(what: 'message' | 'method', name: string, known: readonly string[]) {
    super('UNKNOWN_NAME', `no ${what} named '${name}' in the registry (known: ${known.join(', ') || 'none'})`);
  }
}

function kindName(kind: number): string {
  return KIND_NAMES[kind] ?? `kind-${kind}`;
}

import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import { DecodeError, SchemaViolationError } from './errors.js';
import { packerFor, unpack } from './msgpack.js';
import { mayContainUndefined } from './schema-shape.js';
import { FALLBACK, compileFlatCodec, type FlatCodec } from './flat-codec.js';
import { compileShapeGate, type ShapeGate } from './shape-gate.js';
import type { MessageEntry, MethodEntry, MessageName, MessageOf, MethodName, Registry, RequestOf, ResponseOf } from './registry.js';

/** Options of a {@link Codec}. */
export interface CodecOptions {
  /**
   * Check outbound values against their schema before encoding (default true). The static
   * types already catch most mistakes at compile time; this catches the rest (string lengths,
   * integer ranges, values from `any`) at the sender, where the stack trace points at the bug.
   */
  readonly validateOutbound?: boolean;
}

/**
 * Turns typed values into payload bytes and back, for one registry. Every decoded payload
 * is checked by the compiled TypeBox checker of its type before anyone sees it.
 */
export class Codec<Reg extends Registry = Registry> {
  readonly registry: Reg;
  readonly validateOutbound: boolean;
  // One encoder per checker: a compiled flat codec where the schema allows (falling back to
  // msgpackr per value), else the fast msgpackr packer unless the schema can hold undefined.
  readonly #packers = new WeakMap<TypeCheck<TSchema>, (value: unknown) => Buffer>();
  readonly #flat = new WeakMap<TypeCheck<TSchema>, FlatCodec | null>();

  constructor(registry: Reg, options: CodecOptions = {}) {
    this.registry = registry;
    this.validateOutbound = options.validateOutbound ?? true;
  }

  /** Encodes message `name`. @throws SchemaViolationError (outbound) if the value breaks the schema. */
  encodeMessage<K extends MessageName<Reg>>(name: K, value: MessageOf<Reg, K>): Buffer {
    const entry = this.registry.message(name);
    return this.encodeWith(entry.check, entry.name, value);
  }

  /** Encodes the request of method `name`. */
  encodeRequest<K extends MethodName<Reg>>(name: K, value: RequestOf<Reg, K>): Buffer {
    const entry = this.registry.method(name);
    return this.encodeWith(entry.checkRequest, `${entry.name} request`, value);
  }

  /** Encodes the response of method `name`. */
  encodeResponse<K extends MethodName<Reg>>(name: K, value: ResponseOf<Reg, K>): Buffer {
    const entry = this.registry.method(name);
    return this.encodeWith(entry.checkResponse, `${entry.name} response`, value);
  }

  /** Encodes a value for an entry already looked up (the engine's hot path). */
  encodeEntry(entry: MessageEntry, value: unknown): Buffer {
    return this.encodeWith(entry.check, entry.name, value);
  }

  /** Encodes a request or response for a method entry already looked up. */
  encodeMethod(entry: MethodEntry, part: 'request' | 'response', value: unknown): Buffer {
    return part === 'request'
      ? this.encodeWith(entry.checkRequest, `${entry.name} request`, value)
      : this.encodeWith(entry.checkResponse, `${entry.name} response`, value);
  }

  /**
   * Decodes and validates a message payload.
   * @throws DecodeError when the bytes are not one MessagePack value; SchemaViolationError (inbound).
   */
  decodeMessage(entry: MessageEntry, payload: Uint8Array): unknown {
    return decodeWith(entry.check, entry.name, payload);
  }

  /**
   * {@link decodeMessage} of the payload at `source[start, end)`, decoded in place. With
   * `sourceOwned` (a frame's `owned`: nothing else writes to `source`), binary values are views
   * into it instead of copies.
   */
  decodeMessageAt(entry: MessageEntry, source: Buffer, start: number, end: number, sourceOwned = false): unknown {
    return this.#decodeAt(entry.check, entry.name, source, start, end, sourceOwned);
  }

  /** Decodes and validates a request or response payload of a method. */
  decodeMethod(entry: MethodEntry, part: 'request' | 'response', payload: Uint8Array): unknown {
    return part === 'request'
      ? decodeWith(entry.checkRequest, `${entry.name} request`, payload)
      : decodeWith(entry.checkResponse, `${entry.name} response`, payload);
  }

  /** {@link decodeMethod} of the payload at `source[start, end)`, decoded in place (`sourceOwned`: as {@link decodeMessageAt}). */
  decodeMethodAt(entry: MethodEntry, part: 'request' | 'response', source: Buffer, start: number, end: number, sourceOwned = false): unknown {
    return part === 'request'
      ? this.#decodeAt(entry.checkRequest, `${entry.name} request`, source, start, end, sourceOwned)
      : this.#decodeAt(entry.checkResponse, `${entry.name} response`, source, start, end, sourceOwned);
  }

  private encodeWith(check: TypeCheck<TSchema>, typeName: string, value: unknown): Buffer {
    if (this.validateOutbound && !check.Check(value)) throw violation(check, typeName, value, 'outbound');
    let packer = this.#packers.get(check);
    if (!packer) {
      const generic = packerFor(mayContainUndefined(check.Schema()));
      const flat = this.#flatFor(check);
      packer = flat ? (v) => flat.encode(v as Record<string, unknown>) ?? generic(v) : generic;
      this.#packers.set(check, packer);
    }
    return packer(value);
  }

  #flatFor(check: TypeCheck<TSchema>): FlatCodec | null {
    let flat = this.#flat.get(check);
    if (flat === undefined) {
      flat = compileFlatCodec(check.Schema()) ?? null;
      this.#flat.set(check, flat);
    }
    return flat;
  }

  #decodeAt(check: TypeCheck<TSchema>, typeName: string, source: Buffer, start: number, end: number, sourceOwned: boolean): unknown {
    const flat = this.#flatFor(check);
    if (flat) {
      const value = flat.decode(source, start, end);
      if (value !== FALLBACK) {
        if (!check.Check(value)) throw violation(check, typeName, value, 'inbound');
        return value;
      }
    }
    return decodeWith(check, typeName, source, start, end, sourceOwned);
  }
}

// One shape gate per compiled checker, built on first use (see shape-gate.ts).
const gates = new WeakMap<TypeCheck<TSchema>, ShapeGate>();

/** The shape gate of a checker's schema: compiled once, then cached with the checker. */
export function gateFor(check: TypeCheck<TSchema>): ShapeGate {
  let gate = gates.get(check);
  if (!gate) {
    gate = compileShapeGate(check.Schema());
    gates.set(check, gate);
  }
  return gate;
}

/**
 * Decodes `payload` and checks it with `check`; the typed errors name `typeName`. The bytes
 * first pass the schema's shape gate, which refuses a payload that cannot fit the schema before
 * anything is built from it (issue 11: a 16 MiB bin where an object is expected used to cost
 * seconds and a gigabyte), so a refusal costs at most one pass over the bytes.
 */
export function decodeWith(check: TypeCheck<TSchema>, typeName: string, payload: Uint8Array, start?: number, end?: number, aliasBinary = false): unknown {
  const refusal = gateFor(check).check(payload, start ?? 0, end ?? payload.length);
  if (refusal) {
    throw refusal.kind === 'decode'
      ? new DecodeError(typeName, `not one well-formed MessagePack value (${refusal.detail})`)
      : new SchemaViolationError(typeName, refusal.path, refusal.detail, 'inbound');
  }
  let value: unknown;
  try {
    value =
      start === undefined || start === end
        ? unpack(payload.subarray(start ?? 0, end), undefined, undefined, aliasBinary)
        : unpack(payload, start, end, aliasBinary);
  } catch (err) {
    const detail = err instanceof DecodeError ? err.detail : String((err as Error).message);
    throw new DecodeError(typeName, `not one well-formed MessagePack value (${detail})`, { cause: err });
  }
  if (!check.Check(value)) throw violation(check, typeName, value, 'inbound');
  return value;
}

function violation(check: TypeCheck<TSchema>, typeName: string, value: unknown, direction: 'inbound' | 'outbound'): SchemaViolationError {
  const first = check.Errors(value).First();
  return new SchemaViolationError(typeName, first?.path ?? '', first?.message ?? 'value does not match', direction);
}

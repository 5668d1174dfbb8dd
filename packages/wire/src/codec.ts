import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import { DecodeError, SchemaViolationError } from './errors.js';
import { pack, packerFor, unpack } from './msgpack.js';
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
 * A value split for a BODY frame (PROTOCOL.md §12): `value` is the MessagePack `[key, rest]`,
 * `body` the caller's own binary (not copied), and `rest` the value without `key` (a shallow
 * copy), from which {@link Codec.joinBulk} rebuilds the plain payload for a peer without "bulk".
 */
export interface BulkPayload {
  readonly key: string;
  readonly rest: Record<string, unknown>;
  readonly value: Buffer;
  readonly body: Uint8Array;
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
  // The top-level binary properties of each checker's object schema (those a BODY may carry).
  readonly #binaryKeys = new WeakMap<TypeCheck<TSchema>, readonly string[]>();

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

  /**
   * Splits message `entry`'s value for a BODY frame (PROTOCOL.md §12) when a top-level binary
   * property holds at least `threshold` bytes (the largest such one goes as the body); else
   * undefined, and the caller encodes as usual. The value is checked like {@link encodeEntry}.
   * The body is the caller's buffer, not a copy: it must not change until it is written.
   * @throws SchemaViolationError (outbound) if the value breaks the schema.
   */
  encodeEntryBulk(entry: MessageEntry, value: unknown, threshold: number): BulkPayload | undefined {
    return this.#splitBulk(entry.check, entry.name, value, threshold);
  }

  /**
   * {@link encodeEntryBulk} for a request or response of a method or stream entry (a stream's
   * DATA may carry a BODY, PROTOCOL.md §12).
   * @throws SchemaViolationError (outbound) if the value breaks the schema.
   */
  encodeMethodBulk(entry: MethodEntry, part: 'request' | 'response', value: unknown, threshold: number): BulkPayload | undefined {
    return part === 'request'
      ? this.#splitBulk(entry.checkRequest, `${entry.name} request`, value, threshold)
      : this.#splitBulk(entry.checkResponse, `${entry.name} response`, value, threshold);
  }

  #splitBulk(check: TypeCheck<TSchema>, typeName: string, value: unknown, threshold: number): BulkPayload | undefined {
    let keys = this.#binaryKeys.get(check);
    if (!keys) {
      keys = binaryKeysOf(check.Schema() as ObjectLike);
      this.#binaryKeys.set(check, keys);
    }
    if (keys.length === 0 || typeof value !== 'object' || value === null) return undefined;
    const v = value as Record<string, unknown>;
    let key: string | undefined;
    let size = threshold - 1;
    for (const k of keys) {
      const b = v[k];
      if (b instanceof Uint8Array && b.length > size && Object.hasOwn(v, k)) {
        key = k;
        size = b.length;
      }
    }
    if (key === undefined) return undefined;
    if (this.validateOutbound && !check.Check(value)) throw violation(check, typeName, value, 'outbound');
    const rest: Record<string, unknown> = {};
    for (const k of Object.keys(v)) if (k !== key) rest[k] = v[k];
    return { key, rest, value: pack([key, rest]), body: v[key] as Uint8Array };
  }

  /** The plain payload of a {@link BulkPayload} (for a peer without "bulk"): one copy of the body, as {@link encodeEntry} makes. */
  joinBulk(bulk: BulkPayload): Buffer {
    return pack({ ...bulk.rest, [bulk.key]: bulk.body });
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
  decodeMessageAt(entry: MessageEntry, source: Buffer, start: number, end: number, sourceOwned = false, body?: Buffer): unknown {
    if (body !== undefined) return decodeBulk(entry.check, entry.name, source, start, end, body);
    return this.#decodeAt(entry.check, entry.name, source, start, end, sourceOwned);
  }

  /** Decodes and validates a request or response payload of a method. */
  decodeMethod(entry: MethodEntry, part: 'request' | 'response', payload: Uint8Array): unknown {
    return part === 'request'
      ? decodeWith(entry.checkRequest, `${entry.name} request`, payload)
      : decodeWith(entry.checkResponse, `${entry.name} response`, payload);
  }

  /** {@link decodeMethod} of the payload at `source[start, end)`, decoded in place (`sourceOwned`, and a BODY frame's `body`: as {@link decodeMessageAt}). */
  decodeMethodAt(entry: MethodEntry, part: 'request' | 'response', source: Buffer, start: number, end: number, sourceOwned = false, body?: Buffer): unknown {
    if (body !== undefined)
      return part === 'request'
        ? decodeBulk(entry.checkRequest, `${entry.name} request`, source, start, end, body)
        : decodeBulk(entry.checkResponse, `${entry.name} response`, source, start, end, body);
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

/**
 * Decodes a BODY frame's `[key, rest]` at `source[start, end)` and puts `body` in as property
 * `key` of `rest` (PROTOCOL.md §12): the handler's binary is the decoder's buffer of exactly the
 * body's size, which nothing else writes to. Then the schema check, as for any payload.
 */
function decodeBulk(check: TypeCheck<TSchema>, typeName: string, source: Buffer, start: number, end: number, body: Buffer): unknown {
  let outer: unknown;
  try {
    outer = unpack(source, start, end);
  } catch (err) {
    const detail = err instanceof DecodeError ? err.detail : String((err as Error).message);
    throw new DecodeError(typeName, `not one well-formed MessagePack value (${detail})`, { cause: err });
  }
  if (!Array.isArray(outer) || outer.length !== 2 || typeof outer[0] !== 'string') {
    throw new DecodeError(typeName, 'the value of a BODY frame must be a MessagePack array [key, map]');
  }
  const key = outer[0];
  const rest: unknown = outer[1];
  if (typeof rest !== 'object' || rest === null || Array.isArray(rest) || rest instanceof Uint8Array) {
    throw new DecodeError(typeName, 'the value of a BODY frame must be a MessagePack array [key, map]');
  }
  if (Object.hasOwn(rest, key)) throw new DecodeError(typeName, `the map of a BODY frame already holds its key '${key}'`);
  // defineProperty: a key such as "__proto__" is an own property, never the prototype.
  Object.defineProperty(rest, key, { value: body, enumerable: true, writable: true, configurable: true });
  if (!check.Check(rest)) throw violation(check, typeName, rest, 'inbound');
  return rest;
}

/** The part of a JSON schema that says where top-level binaries can be. */
interface ObjectLike {
  readonly type?: unknown;
  readonly properties?: Record<string, { readonly type?: unknown }>;
  readonly anyOf?: readonly ObjectLike[];
}

/**
 * The top-level `Uint8Array` properties an object schema declares, or any object variant of a
 * union declares (a stream's messages are often a union of typed messages): the properties a
 * BODY may carry. The value's own schema check decides the rest.
 */
function binaryKeysOf(schema: ObjectLike): readonly string[] {
  if (Array.isArray(schema.anyOf)) return [...new Set(schema.anyOf.flatMap(binaryKeysOf))];
  const props = schema.properties;
  if (schema.type !== 'object' || !props) return [];
  return Object.keys(props).filter((k) => props[k]!.type === 'Uint8Array');
}

function violation(check: TypeCheck<TSchema>, typeName: string, value: unknown, direction: 'inbound' | 'outbound'): SchemaViolationError {
  const first = check.Errors(value).First();
  return new SchemaViolationError(typeName, first?.path ?? '', first?.message ?? 'value does not match', direction);
}

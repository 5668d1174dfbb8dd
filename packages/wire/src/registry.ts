import { createHash } from 'node:crypto';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { canonicalJson } from './canonical-json.js';
import { RESERVED_ID_MIN } from './constants.js';
import { RegistryDefinitionError, UnknownNameError } from './errors.js';

/** A one-way message type: its TYPE_ id and the TypeBox schema of its payload. */
export interface MessageDef<S extends TSchema = TSchema> {
  /** The TYPE_ id on the wire: an integer in 0 … 0xFEFF, unique across messages and methods. */
  readonly id: number;
  /** Schema of the payload. Static types come from it; inbound payloads are checked against it. */
  readonly schema: S;
  /** Free text for documentation and error messages. Not part of the fingerprint. */
  readonly description?: string;
}

/** An RPC method: its TYPE_ id and the schemas of its request and response. */
export interface MethodDef<Q extends TSchema = TSchema, R extends TSchema = TSchema> {
  /** The TYPE_ id on the wire: an integer in 0 … 0xFEFF, unique across messages and methods. */
  readonly id: number;
  readonly request: Q;
  readonly response: R;
  readonly description?: string;
}

/**
 * Who sends how many messages on a stream (PROTOCOL.md §11): `server`, one request then many
 * responses; `client`, many requests then one response; `bidi`, many each way.
 */
export type StreamMode = 'server' | 'client' | 'bidi';

/** A stream method: its TYPE_ id, its mode and the schemas of its request and response messages. */
export interface StreamDef<Q extends TSchema = TSchema, R extends TSchema = TSchema, Mo extends StreamMode = StreamMode> {
  /** The TYPE_ id on the wire: an integer in 0 … 0xFEFF, unique across messages, methods and streams. */
  readonly id: number;
  readonly mode: Mo;
  /** Schema of each message the opener sends. */
  readonly request: Q;
  /** Schema of each message the acceptor sends. */
  readonly response: R;
  readonly description?: string;
}

/** Message declarations keyed by name. The key is the type's name on both ends. */
export type MessageDefs = { readonly [name: string]: MessageDef };
/** Method declarations keyed by name. */
export type MethodDefs = { readonly [name: string]: MethodDef };
/** Stream method declarations keyed by name. */
export type StreamDefs = { readonly [name: string]: StreamDef };

/** A declared message with its compiled checker. */
export interface MessageEntry {
  readonly kind: 'message';
  readonly name: string;
  readonly id: number;
  readonly schema: TSchema;
  readonly check: TypeCheck<TSchema>;
}

/** A declared method with its compiled checkers. */
export interface MethodEntry {
  readonly kind: 'method';
  readonly name: string;
  readonly id: number;
  readonly request: TSchema;
  readonly response: TSchema;
  readonly checkRequest: TypeCheck<TSchema>;
  readonly checkResponse: TypeCheck<TSchema>;
}

/** A declared stream method with its compiled checkers. */
export interface StreamEntry {
  readonly kind: 'stream';
  readonly name: string;
  readonly id: number;
  readonly mode: StreamMode;
  readonly request: TSchema;
  readonly response: TSchema;
  readonly checkRequest: TypeCheck<TSchema>;
  readonly checkResponse: TypeCheck<TSchema>;
}

/** One line of the registry's summary, carried in HELLO so a mismatch can name what differs. */
export interface TypeSummary {
  readonly id: number;
  readonly name: string;
  readonly kind: 'message' | 'method' | 'stream';
  /** First 16 hex digits of SHA-256 over the entry's canonical schema JSON. */
  readonly hash: string;
}

/**
 * Every message type and method two peers share, declared once. Build it with
 * {@link defineRegistry}; pass the same registry to both ends.
 */
export class Registry<M extends MessageDefs = MessageDefs, R extends MethodDefs = MethodDefs, S extends StreamDefs = StreamDefs> {
  /** The message declarations, as given. */
  readonly messages: M;
  /** The method declarations, as given. */
  readonly methods: R;
  /** The stream method declarations, as given (PROTOCOL.md §11). */
  readonly streams: S;
  /**
   * SHA-256 (hex, 32 digits) over every entry's id, name, kind and canonical schema, sorted by id.
   * Equal in every process that declares the same registry; changes with any schema change.
   */
  readonly fingerprint: string;
  /** Per-entry summary, sorted by id. */
  readonly summary: readonly TypeSummary[];
  /**
   * The canonical JSON of every entry, sorted by id (PROTOCOL.md §7): the exact text whose
   * SHA-256 begins with {@link fingerprint}. Give it to a team writing a peer in another
   * language: it holds every schema, and lets them check their own fingerprint.
   */
  readonly canonicalJson: string;

  readonly #messagesByName = new Map<string, MessageEntry>();
  readonly #methodsByName = new Map<string, MethodEntry>();
  // Arrays indexed by TYPE_ id: the decoder's hot path looks an id up per frame.
  readonly #messagesById: (MessageEntry | undefined)[] = [];
  readonly #methodsById: (MethodEntry | undefined)[] = [];
  readonly #streamsByName = new Map<string, StreamEntry>();
  readonly #streamsById: (StreamEntry | undefined)[] = [];

  /** @internal Use {@link defineRegistry}. */
  constructor(messages: M, methods: R, streams: S = {} as S) {
    this.messages = messages;
    this.methods = methods;
    this.streams = streams;
    const seenIds = new Map<number, string>();
    const claim = (id: unknown, name: string): number => {
      if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= RESERVED_ID_MIN) {
        throw new RegistryDefinitionError(
          (id as number) >= RESERVED_ID_MIN && (id as number) <= 0xffff
            ? `'${name}' uses TYPE_ id ${String(id)}, which is reserved for the protocol (0xFF00 … 0xFFFF): pick an id in 0 … 0xFEFF`
            : `'${name}' has TYPE_ id ${String(id)}: an id must be an integer in 0 … 0xFEFF (65279)`,
        );
      }
      const other = seenIds.get(id as number);
      if (other !== undefined) {
        throw new RegistryDefinitionError(
          `TYPE_ id ${String(id)} is declared twice, by '${other}' and '${name}': ids must be unique across messages and methods`,
        );
      }
      seenIds.set(id as number, name);
      return id as number;
    };
    const canonical: unknown[] = [];
    for (const [name, def] of Object.entries(messages)) {
      checkName(name);
      const id = claim(def.id, name);
      const entry: MessageEntry = { kind: 'message', name, id, schema: def.schema, check: TypeCompiler.Compile(def.schema) };
      this.#messagesByName.set(name, entry);
      this.#messagesById[id] = entry;
      canonical.push({ id, name, kind: 'message', schema: def.schema });
    }
    for (const [name, def] of Object.entries(methods)) {
      checkName(name);
      if (this.#messagesByName.has(name)) {
        throw new RegistryDefinitionError(`'${name}' is declared as both a message and a method: names must be unique`);
      }
      const id = claim(def.id, name);
      const entry: MethodEntry = {
        kind: 'method',
        name,
        id,
        request: def.request,
        response: def.response,
        checkRequest: TypeCompiler.Compile(def.request),
        checkResponse: TypeCompiler.Compile(def.response),
      };
      this.#methodsByName.set(name, entry);
      this.#methodsById[id] = entry;
      canonical.push({ id, name, kind: 'method', request: def.request, response: def.response });
    }
    // A registry without streams has exactly the entries (and the fingerprint) it had before them.
    for (const [name, def] of Object.entries(streams)) {
      checkName(name);
      if (this.#messagesByName.has(name) || this.#methodsByName.has(name)) {
        throw new RegistryDefinitionError(`'${name}' is declared twice (as a stream and as a message or method): names must be unique`);
      }
      if (def.mode !== 'server' && def.mode !== 'client' && def.mode !== 'bidi') {
        throw new RegistryDefinitionError(`stream '${name}' has mode ${String(def.mode)}: a mode is 'server', 'client' or 'bidi'`);
      }
      const id = claim(def.id, name);
      const entry: StreamEntry = {
        kind: 'stream',
        name,
        id,
        mode: def.mode,
        request: def.request,
        response: def.response,
        checkRequest: TypeCompiler.Compile(def.request),
        checkResponse: TypeCompiler.Compile(def.response),
      };
      this.#streamsByName.set(name, entry);
      this.#streamsById[id] = entry;
      canonical.push({ id, name, kind: 'stream', mode: def.mode, request: def.request, response: def.response });
    }
    const sorted = canonical.sort((a, b) => (a as { id: number }).id - (b as { id: number }).id);
    this.summary = sorted.map((c) => {
      const { id, name, kind } = c as { id: number; name: string; kind: 'message' | 'method' | 'stream' };
      return { id, name, kind, hash: sha256(canonicalJson(c)).slice(0, 16) };
    });
    this.canonicalJson = canonicalJson(sorted);
    this.fingerprint = sha256(this.canonicalJson).slice(0, 32);
  }

  /** The message declared under `name`; throws {@link UnknownNameError} if there is none. */
  message(name: string): MessageEntry {
    const e = this.#messagesByName.get(name);
    if (!e) throw new UnknownNameError('message', name, [...this.#messagesByName.keys()]);
    return e;
  }

  /** The method declared under `name`; throws {@link UnknownNameError} if there is none. */
  method(name: string): MethodEntry {
    const e = this.#methodsByName.get(name);
    if (!e) throw new UnknownNameError('method', name, [...this.#methodsByName.keys()]);
    return e;
  }

  /** The stream method declared under `name`; throws {@link UnknownNameError} if there is none. */
  stream(name: string): StreamEntry {
    const e = this.#streamsByName.get(name);
    // UnknownNameError names what it looked for; a stream method is a method of the registry.
    if (!e) throw new UnknownNameError('method', name, [...this.#streamsByName.keys()]);
    return e;
  }

  /** The stream method with TYPE_ id `id`, if declared. */
  streamById(id: number): StreamEntry | undefined {
    return this.#streamsById[id];
  }

  /** Names of every declared stream method. */
  streamNames(): string[] {
    return [...this.#streamsByName.keys()];
  }

  /** The message with TYPE_ id `id`, if declared. */
  messageById(id: number): MessageEntry | undefined {
    return this.#messagesById[id];
  }

  /** The method with TYPE_ id `id`, if declared. */
  methodById(id: number): MethodEntry | undefined {
    return this.#methodsById[id];
  }

  /** Names of every declared message. */
  messageNames(): string[] {
    return [...this.#messagesByName.keys()];
  }

  /** Names of every declared method. */
  methodNames(): string[] {
    return [...this.#methodsByName.keys()];
  }
}

/**
 * Declares a registry. Names are the object keys; ids are the TYPE_ ids of the wire.
 *
 * @example
 * ```ts
 * const registry = defineRegistry({
 *   messages: { messageexp: { id: 4, schema: Type.Object({ ts: Type.BigInt(), text: Type.String() }) } },
 *   methods: { getDelta: { id: 100, request: Type.Object({}), response: Type.Object({ delta: Type.BigInt() }) } },
 * });
 * ```
 * @throws RegistryDefinitionError on a duplicate id or name, an id outside 0 … 0xFEFF, or a bad name.
 */
// `{}` as the default means "no entries": a registry with only messages (or only methods) infers the other side as empty.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export function defineRegistry<M extends MessageDefs = {}, R extends MethodDefs = {}, S extends StreamDefs = {}>(definition: {
  readonly messages?: M;
  readonly methods?: R;
  /** Stream methods (PROTOCOL.md §11), e.g. `{ tail: { id: 200, mode: 'server', request, response } }`. */
  readonly streams?: S;
}): Registry<M, R, S> {
  return new Registry((definition.messages ?? {}) as M, (definition.methods ?? {}) as R, (definition.streams ?? {}) as S);
}

/**
 * Joins registries into one, e.g. a library's own messages with an application's.
 * @throws RegistryDefinitionError when two of them claim the same id or name.
 */
export function mergeRegistries<A extends Registry, B extends Registry>(
  a: A,
  b: B,
): Registry<RegMessages<A> & RegMessages<B>, RegMethods<A> & RegMethods<B>, RegStreams<A> & RegStreams<B>> {
  for (const name of [...Object.keys(b.messages), ...Object.keys(b.methods), ...Object.keys(b.streams)]) {
    if (Object.hasOwn(a.messages, name) || Object.hasOwn(a.methods, name) || Object.hasOwn(a.streams, name))
      throw new RegistryDefinitionError(`'${name}' is declared in both registries being merged`);
  }
  return new Registry(
    { ...a.messages, ...b.messages } as RegMessages<A> & RegMessages<B>,
    { ...a.methods, ...b.methods } as RegMethods<A> & RegMethods<B>,
    { ...a.streams, ...b.streams } as RegStreams<A> & RegStreams<B>,
  );
}

function checkName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/.test(name)) {
    throw new RegistryDefinitionError(
      `'${name}' is not a valid type name: use letters, digits, '_', '.', ':' or '-', starting with a letter or '_', at most 128 characters`,
    );
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The message declarations of a registry type. */
export type RegMessages<Reg> = Reg extends Registry<infer M, MethodDefs, any> ? M : never;
/** The method declarations of a registry type. */
export type RegMethods<Reg> = Reg extends Registry<MessageDefs, infer R, any> ? R : never;
/** The stream method declarations of a registry type. */
export type RegStreams<Reg> = Reg extends Registry<MessageDefs, MethodDefs, infer S> ? S : never;
/** Names of the messages of a registry, as a string-literal union. */
export type MessageName<Reg> = keyof RegMessages<Reg> & string;
/** Names of the methods of a registry, as a string-literal union. */
export type MethodName<Reg> = keyof RegMethods<Reg> & string;
/** The static type of message `K` of a registry. */
export type MessageOf<Reg, K extends MessageName<Reg>> = Static<RegMessages<Reg>[K]['schema']>;
/** The static type of the request of method `K`. */
export type RequestOf<Reg, K extends MethodName<Reg>> = Static<RegMethods<Reg>[K]['request']>;
/** The static type of the response of method `K`. */
export type ResponseOf<Reg, K extends MethodName<Reg>> = Static<RegMethods<Reg>[K]['response']>;
/** Names of the stream methods of a registry, as a string-literal union. */
export type StreamName<Reg> = keyof RegStreams<Reg> & string;
/** The mode of stream method `K`. */
export type StreamModeOf<Reg, K extends StreamName<Reg>> = RegStreams<Reg>[K]['mode'];
/** The static type of each message the opener of stream `K` sends. */
export type StreamRequestOf<Reg, K extends StreamName<Reg>> = Static<RegStreams<Reg>[K]['request']>;
/** The static type of each message the acceptor of stream `K` sends. */
export type StreamResponseOf<Reg, K extends StreamName<Reg>> = Static<RegStreams<Reg>[K]['response']>;

import type { MethodEntry, Registry } from '@vsock-rpc/wire';
import type { PeerContext } from './peer.js';
import type { StreamHandler } from './stream-types.js';

/** What a method handler receives besides the request. */
export interface CallContext extends PeerContext {
  /** Aborted when the caller cancels, the deadline passes, or the connection closes. */
  readonly signal: AbortSignal;
  /** Absolute deadline on this process's monotonic clock (ms, performance.now()), if the caller sent one. */
  readonly deadline: number | undefined;
  /** The method's name. */
  readonly method: string;
  /** The call id on the wire (for logs). */
  readonly callId: number;
}

/** A method handler: resolves to the response, or throws (an RpcError keeps its code). */
export type MethodHandler = (request: any, ctx: CallContext) => unknown | Promise<unknown>;
/** An event handler: called once per event, in order. A returned promise is awaited for flow control. */
export type EventHandler = (value: any, ctx: PeerContext) => unknown;

/**
 * The method and event handlers of an engine, shared by all its connections. Lookups are by
 * TYPE_ id in arrays: one per frame on the hot path.
 */
export class Router {
  readonly registry: Registry;
  readonly #methods: (MethodHandler | undefined)[] = [];
  readonly #streams: (StreamHandler | undefined)[] = [];
  readonly #events: (EventHandler[] | undefined)[] = [];
  #anyEvent: ((type: string, value: unknown, ctx: PeerContext) => unknown)[] = [];

  constructor(registry: Registry) {
    this.registry = registry;
  }

  /** Registers the handler of method `name` (replacing any earlier one). */
  handle(name: string, handler: MethodHandler): void {
    this.#methods[this.registry.method(name).id] = handler;
  }

  /** The handler for method `id` and its entry, if both exist. */
  methodHandler(id: number): { entry: MethodEntry; handler: MethodHandler } | undefined {
    const handler = this.#methods[id];
    const entry = this.registry.methodById(id);
    return handler && entry ? { entry, handler } : undefined;
  }

  /** Registers the handler of stream method `name` (replacing any earlier one). */
  handleStream(name: string, handler: StreamHandler): void {
    this.#streams[this.registry.stream(name).id] = handler;
  }

  /** The handler of stream method `id`, if any. */
  streamHandler(id: number): StreamHandler | undefined {
    return this.#streams[id];
  }

  /** Adds a handler for message `name`; returns a function that removes it. */
  on(name: string, handler: EventHandler): () => void {
    const id = this.registry.message(name).id;
    const list = (this.#events[id] ??= []);
    list.push(handler);
    return () => {
      const i = list.indexOf(handler);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** Adds a handler for every message type; returns a function that removes it. */
  onAny(handler: (type: string, value: unknown, ctx: PeerContext) => unknown): () => void {
    this.#anyEvent.push(handler);
    return () => {
      this.#anyEvent = this.#anyEvent.filter((h) => h !== handler);
    };
  }

  /** Handlers of message `id` (possibly empty). */
  eventHandlers(id: number): readonly EventHandler[] | undefined {
    return this.#events[id];
  }

  /** Handlers of every message. */
  get anyHandlers(): readonly ((type: string, value: unknown, ctx: PeerContext) => unknown)[] {
    return this.#anyEvent;
  }
}

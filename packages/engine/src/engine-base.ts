import { EventEmitter } from 'node:events';
import type { Registry as PromRegistry } from 'prom-client';
import type { MessageName, MessageOf, MethodName, Registry, RequestOf, ResponseOf, StreamName } from '@vsock-rpc/wire';
import type { EventQueueOptions } from './event-queue.js';
import { VsockRpcError } from '@vsock-rpc/wire';
import { ConnectionClosedError } from './errors.js';
import { Inbox } from './inbox.js';
import type { Logger } from './logger.js';
import { EngineMetrics } from './metrics.js';
import type { ConnectionOptions, ReceivedEvent } from './connection.js';
import type { PeerContext } from './peer.js';
import { Router, type CallContext } from './router.js';
import type { StreamHandler, TypedStreamHandler } from './stream-types.js';
import { resolveTimeLimits, type TimeLimits } from './time-limits.js';

/** Options shared by {@link ClientEngine} and {@link ServerEngine}. */
export interface EngineOptions<Reg extends Registry> {
  /** The registry both ends share. */
  readonly registry: Reg;
  /** Our name in HELLO (default: $HOSTNAME or pid-N). */
  readonly name?: string;
  /** Largest payload we accept (default 16 MiB). */
  readonly maxFrame?: number;
  /** Payloads at or under this size are copied into the batch buffer (default 4096). */
  readonly inlineLimit?: number;
  /**
   * Multiplies every default time limit (handshake, keepalive and idle, frame deadline, connect,
   * call wait, clock exchange; see time-limits.ts): 10 lets a guest ten times slower than usual in.
   * Limits set explicitly below are not scaled. Default 1.
   */
  readonly timeoutScale?: number;
  /** Give up on a peer whose HELLO has not come after this many ms (default 10 000 × timeoutScale). */
  readonly handshakeTimeoutMs?: number;
  /** PING after this many ms without a complete frame (default 5000 × timeoutScale; 0 disables). */
  readonly keepaliveMs?: number;
  /** Close a peer that sent no complete frame for this many ms (default 3 × keepaliveMs; 0 disables). */
  readonly idleTimeoutMs?: number;
  /**
   * How slowly one frame may arrive before its peer is closed with FRAME_TIMEOUT (default
   * 10 s × timeoutScale, plus the frame's size at 64 KiB/s ÷ timeoutScale).
   */
  readonly frameDeadline?: ConnectionOptions['frameDeadline'];
  /**
   * Bytes and CPU ms per second one peer may cost; over it, the peer is slowed, then closed with
   * RESOURCE_EXHAUSTED (default unlimited: a host facing guests should set it).
   */
  readonly budget?: ConnectionOptions['budget'];
  /** Stop reading from a peer while this many bytes we wrote sit unread by it (default 1 MiB). */
  readonly maxUnreadBytes?: number;
  /**
   * Credit in bytes we grant the peer on each stream, announced in HELLO (default 256 KiB): what
   * one stream may buffer here, and the largest message it can carry to us (PROTOCOL.md §11).
   */
  readonly streamWindow?: number;
  /** Features announced in HELLO (default 'clock', 'keepalive', 'streams', 'bulk'); leave out 'streams' to refuse streams, 'bulk' to send no BODY frames. */
  readonly features?: readonly string[];
  /** Streams the peer may have open at once that it opened (default 1024); more get RESET RESOURCE_EXHAUSTED. */
  readonly maxStreams?: number;
  /**
   * Bytes of stream messages one connection holds received and not yet read, over all its
   * streams (default 16 MiB); past it, the stream whose DATA would exceed it is reset with
   * RESOURCE_EXHAUSTED, and nothing else on the connection is held up.
   */
  readonly maxStreamBufferBytes?: number;
  /** Bounds and full-queue policy of the outbound event queue (per connection on a server). */
  readonly queue?: EventQueueOptions;
  /** Events buffered for recv()/iterators before reading pauses (default 8192). */
  readonly inboxCapacity?: number;
  /** Calls from one peer running at once (default 1024). */
  readonly maxConcurrentCalls?: number;
  /** Our calls in flight on one connection (default 65 536). */
  readonly maxPendingCalls?: number;
  /**
   * Event-handler promises pending on one connection before it stops reading (default 1024);
   * reading resumes when half of them have settled. This is how a slow handler slows its peer.
   */
  readonly maxPendingHandlers?: number;
  /** Publish metrics into this prom-client registry. */
  readonly promRegistry?: PromRegistry;
  /** Metric name prefix (default 'vsockrpc_'). */
  readonly metricsPrefix?: string;
  /**
   * Application error codes (e.g. 'NOT_FOUND') that keep their own `code` label in the metrics.
   * Any code outside these and the protocol's own (PROTOCOL.md §6) is counted as `OTHER`: codes
   * travel in ERROR and GOAWAY frames, so a peer picks them, and must not pick label values.
   */
  readonly metricCodes?: readonly string[];
  /** One line per notable event (default: stderr). `null` silences. */
  readonly logger?: Logger | null;
  /**
   * Shifts this side's clock by a known amount (ns), so that tests and benchmarks know the
   * true offset. Only the engine's notion of "now" changes (HELLO, clock exchange, traces).
   */
  readonly clockSkewNs?: bigint;
}

/** An event as `recv()` and iterators deliver it, typed by the registry. */
export type TypedEvent<Reg extends Registry> = {
  [K in MessageName<Reg>]: { readonly type: K; readonly value: MessageOf<Reg, K>; readonly peer: PeerContext };
}[MessageName<Reg>];

/** A typed method handler. */
export type TypedHandler<Reg extends Registry, K extends MethodName<Reg>> = (
  request: RequestOf<Reg, K>,
  ctx: CallContext,
) => ResponseOf<Reg, K> | Promise<ResponseOf<Reg, K>>;

/**
 * What both engines share: the registry, the handlers, the inbox of received events, metrics
 * and the clock. Not used directly.
 */
export abstract class EngineBase<Reg extends Registry> extends EventEmitter {
  readonly registry: Reg;
  readonly metrics: EngineMetrics;
  /** The time limits this engine runs with: its options' `timeoutScale` applied to the defaults. */
  readonly timeLimits: TimeLimits;
  protected readonly router: Router;
  protected readonly inbox: Inbox<ReceivedEvent>;
  protected readonly options: EngineOptions<Reg>;
  /** This side's clock in ns (CLOCK_MONOTONIC, shifted by clockSkewNs). */
  readonly now: () => bigint;

  protected constructor(options: EngineOptions<Reg>, role: 'client' | 'server') {
    super();
    const scale = options.timeoutScale;
    if (scale !== undefined && !(Number.isFinite(scale) && scale > 0)) {
      throw new VsockRpcError(
        'ERR_INVALID_ARG_VALUE',
        `timeoutScale must be a positive number (1 is normal speed, 10 ten times as patient), got ${String(scale)}`,
      );
    }
    this.options = options;
    this.timeLimits = resolveTimeLimits(options);
    this.registry = options.registry;
    this.router = new Router(options.registry);
    this.inbox = new Inbox<ReceivedEvent>(options.inboxCapacity);
    this.metrics = new EngineMetrics(options.registry, {
      promRegistry: options.promRegistry,
      prefix: options.metricsPrefix,
      labels: { role },
      codes: options.metricCodes,
    });
    const skew = options.clockSkewNs ?? 0n;
    this.now = skew === 0n ? process.hrtime.bigint : () => process.hrtime.bigint() + skew;
  }

  /**
   * Handles message `type`: the handler runs once per event, in arrival order. Events with a
   * handler do not reach recv(). Returns a function that removes the handler.
   */
  override on<K extends MessageName<Reg>>(type: K, handler: (value: MessageOf<Reg, K>, peer: PeerContext) => unknown): () => void;
  /**
   * EventEmitter listeners for the engine's lifecycle events. A message name never lands here
   * (so a handler of the wrong type for a message is a compile error, not a silent fallback).
   */
  override on<E extends string | symbol>(event: E & Exclude<E, MessageName<Reg>>, listener: (...args: any[]) => void): this;
  override on(type: string | symbol, handler: (...args: any[]) => unknown): any {
    if (typeof type === 'string' && this.isMessageName(type)) return this.router.on(type, handler as (v: unknown, p: PeerContext) => unknown);
    return super.on(type, handler as (...args: any[]) => void);
  }

  /** Handles every message type (after type-specific handlers). Returns a remover. */
  onAnyEvent(handler: (event: TypedEvent<Reg>) => unknown): () => void {
    return this.router.onAny((type, value, peer) => handler({ type, value, peer } as TypedEvent<Reg>));
  }

  /** Registers the handler of method `method`. */
  handle<K extends MethodName<Reg>>(method: K, handler: TypedHandler<Reg, K>): this {
    this.router.handle(method, handler as (r: unknown, c: CallContext) => unknown);
    return this;
  }

  /**
   * Registers the handler of stream method `name` (PROTOCOL.md §11), by its mode:
   * - `server`: `(request, stream) => …`: write responses with `await stream.write(v)`, or make
   *   it an `async function*` that yields them;
   * - `client`: `async (requests) => response`, reading with `for await (const r of requests)`;
   * - `bidi`: `(requests, stream) => …`, both.
   *
   * Returning ends the stream; throwing resets it (an `RpcError` keeps its code). The context's
   * `signal` aborts when the opener cancels, the deadline passes or the connection closes.
   *
   * @example
   * ```ts
   * server.handleStream('tail', async function* (req, stream) {
   *   for await (const line of follow(req.path, { signal: stream.signal })) yield { line };
   * });
   * ```
   */
  handleStream<K extends StreamName<Reg>>(name: K, handler: TypedStreamHandler<Reg, K>): this {
    this.router.handleStream(name, handler as StreamHandler);
    return this;
  }

  /** The next event that has no handler (waits for one). Alias: {@link recvMesg}. */
  async recv(): Promise<TypedEvent<Reg>> {
    const r = await this.inbox.next();
    if (r.done) throw new ConnectionClosedError('engine closed: no more events will arrive');
    return r.value as TypedEvent<Reg>;
  }

  /** The original's `recvMesg`: the same as {@link recv}. */
  recvMesg(): Promise<TypedEvent<Reg>> {
    return this.recv();
  }

  /** Iterates events that have no handler, until the engine closes. */
  async *events(): AsyncGenerator<TypedEvent<Reg>> {
    for (;;) {
      const r = await this.inbox.next();
      if (r.done) return;
      yield r.value as TypedEvent<Reg>;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<TypedEvent<Reg>> {
    return this.events();
  }

  /** Latency percentiles of our calls, in µs. */
  latency() {
    return this.metrics.latency();
  }

  protected connectionOptions(): Omit<ConnectionOptions, 'peerInfo' | 'queue'> {
    const o = this.options;
    return {
      registry: o.registry,
      router: this.router,
      inbox: this.inbox,
      name: o.name,
      maxFrame: o.maxFrame,
      inlineLimit: o.inlineLimit,
      handshakeTimeoutMs: this.timeLimits.handshakeTimeoutMs,
      timeoutScale: o.timeoutScale,
      maxConcurrentCalls: o.maxConcurrentCalls,
      maxPendingCalls: o.maxPendingCalls,
      maxPendingHandlers: o.maxPendingHandlers,
      keepaliveMs: this.timeLimits.keepaliveMs,
      idleTimeoutMs: this.timeLimits.idleTimeoutMs,
      frameDeadline: { baseMs: this.timeLimits.frameBaseMs, minBytesPerSecond: this.timeLimits.minFrameBytesPerSecond },
      budget: o.budget,
      maxUnreadBytes: o.maxUnreadBytes,
      streamWindow: o.streamWindow,
      features: o.features,
      maxStreams: o.maxStreams,
      maxStreamBufferBytes: o.maxStreamBufferBytes,
      now: this.now,
      logger: o.logger,
      metrics: this.metrics,
      queueOptions: o.queue,
    };
  }

  private isMessageName(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.registry.messages, name);
  }
}

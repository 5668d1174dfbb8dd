import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  Codec,
  ControlType,
  CONTROL_NAMES,
  DEFAULT_INLINE_LIMIT,
  DEFAULT_MAX_FRAME,
  FrameDecoder,
  FrameTooLargeError,
  MAX_FRAME_CEILING,
  Kind,
  PROTOCOL_VERSION,
  ProtocolError,
  RESERVED_ID_MIN,
  SchemaViolationError,
  VsockRpcError,
  decodeClockRequest,
  decodeClockResponse,
  decodeErrorPayload,
  decodeHello,
  encodeClockResponse,
  escapeText,
  encodeErrorPayload,
  encodeHello,
  stampClockResponse,
  type Frame,
  type Hello,
  type MethodEntry,
  type Registry,
} from '@vsock-rpc/wire';
import type { PeerInfo } from '@vsock-rpc/vsock';
import { ConnectionClosedError, GoawayError, HelloMismatchError, RpcError } from './errors.js';
import { EventQueue, type EventQueueOptions } from './event-queue.js';
import { FrameWriter } from './frame-writer.js';
import type { Inbox } from './inbox.js';
import { stderrLogger, type Logger } from './logger.js';
import type { EngineMetrics } from './metrics.js';
import type { PeerContext } from './peer.js';
import { PeerBudget, type PeerBudgetOptions } from './peer-budget.js';
import { FrameProgress, type FrameDeadlineOptions } from './receive-deadlines.js';
import type { CallContext, Router } from './router.js';

/** An event as pull-style consumers receive it. */
export interface ReceivedEvent {
  /** The message type's name. */
  readonly type: string;
  /** The decoded, validated value. */
  readonly value: unknown;
  /** Who sent it. */
  readonly peer: PeerContext;
}

/** Options of one call. */
export interface CallOptions {
  /** Give up after this many ms; the deadline travels with the request (PROTOCOL.md §2). */
  readonly timeoutMs?: number;
  /** Cancels the call; the peer is told with CANCEL. */
  readonly signal?: AbortSignal;
}

/** One clock exchange: T1 and T2 on our clock, T1′ and T2′ on the peer's (ns). */
export interface ClockSample {
  readonly t1: bigint;
  readonly t1r: bigint;
  readonly t2r: bigint;
  readonly t2: bigint;
}

/** Options of a {@link Connection}. */
export interface ConnectionOptions {
  readonly registry: Registry;
  readonly router: Router;
  /** Where events without a handler go (for recv() and iterators). */
  readonly inbox: Inbox<ReceivedEvent>;
  /** What the transport knows of the peer. */
  readonly peerInfo: PeerInfo;
  /** Our name in HELLO (default: the host name). */
  readonly name?: string;
  /** Largest payload we accept (default 16 MiB). */
  readonly maxFrame?: number;
  /** Inline limit of our frame encoder (default 4096). */
  readonly inlineLimit?: number;
  /** Give up on a peer whose HELLO has not arrived after this many ms (default 10 000). */
  readonly handshakeTimeoutMs?: number;
  /** The outbound event queue; pass one to keep events across reconnects. */
  readonly queue?: EventQueue;
  /** Bounds of a queue made for this connection when none is passed. */
  readonly queueOptions?: EventQueueOptions;
  /** Most calls from the peer running at once (default 1024); more are refused with RESOURCE_EXHAUSTED. */
  readonly maxConcurrentCalls?: number;
  /** Most of our calls in flight at once (default 65 536). */
  readonly maxPendingCalls?: number;
  /** Most event-handler promises pending before reading pauses (default 1024). */
  readonly maxPendingHandlers?: number;
  /** Send PING after this many ms without hearing from the peer (default 5000; 0 disables keepalive). */
  readonly keepaliveMs?: number;
  /** Close after this many ms without hearing from the peer (default 3 × keepaliveMs; 0 disables). */
  readonly idleTimeoutMs?: number;
  /** This side's monotonic clock in ns (default process.hrtime.bigint; tests skew it). */
  readonly now?: () => bigint;
  readonly logger?: Logger | null;
  readonly metrics?: EngineMetrics;
  /** Optional features announced in HELLO. */
  readonly features?: readonly string[];
  /**
   * What this peer may cost: bytes and CPU ms per second spent on its input. Over budget it is
   * slowed (reading pauses), then closed with RESOURCE_EXHAUSTED. Default: unlimited; a host
   * facing guests should set it (ServerEngine passes its own `budget` option here).
   */
  readonly budget?: PeerBudgetOptions;
  /** How slowly one frame may arrive before the peer is closed with FRAME_TIMEOUT (default 10 s + 64 KiB/s). */
  readonly frameDeadline?: FrameDeadlineOptions;
  /**
   * Stop reading from a peer while this many bytes we wrote to it sit unread in the socket's
   * buffer (default 1 MiB). Answers the peer asks for without reading them (PONG, CLOCK_RESPONSE,
   * call replies) cannot pile up: its requests wait in the kernel instead, where its own writes stall.
   */
  readonly maxUnreadBytes?: number;
}

interface PendingCall {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  method: string;
  entryId: number;
  /** performance.now() when the call started: a double, no BigInt to allocate per call. */
  startMs: number;
  timer: NodeJS.Timeout | undefined;
  cleanup: (() => void) | undefined;
}

/** Counters of one connection. */
export interface ConnectionStats {
  readonly framesIn: number;
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly eventsIn: number;
  readonly eventsDropped: number;
  readonly eventsInvalid: number;
  readonly queueDepth: number;
  readonly pendingCalls: number;
  readonly runningHandlers: number;
  /** Responses and errors written by us but still waiting for the socket (the peer reads slowly). */
  readonly queuedReplies: number;
  /**
   * Why reading from the peer is paused, if it is: 'unread' (it does not read our answers),
   * 'budget' (over its byte or CPU budget), 'replies', 'handlers', 'inbox' (we are behind).
   */
  readonly readPaused: readonly string[];
  readonly rttNs: bigint | undefined;
}

const HELLO_MAX = 65536;
let nextConnectionId = 1;

/**
 * One vsock-rpc connection over any Duplex: the HELLO handshake, typed events in both directions,
 * typed calls in both directions, keepalive, the clock responder, and graceful close.
 * Engines create these; most users never touch one directly.
 *
 * Events: 'ready' (peer), 'close' (error | undefined), 'goaway' (code, message),
 * 'eventError' (error: a dropped invalid event).
 */
export class Connection extends EventEmitter {
  /** Resolves with the peer once both HELLOs are exchanged and accepted. */
  readonly ready: Promise<PeerContext>;
  readonly id = nextConnectionId++;
  readonly socket: Duplex;
  readonly queue: EventQueue;
  readonly #opts: ConnectionOptions;
  readonly #codec: Codec;
  readonly #router: Router;
  readonly #decoder: FrameDecoder;
  readonly #writer: FrameWriter;
  readonly #now: () => bigint;
  readonly #logger: Logger;
  readonly #maxFrame: number;
  #peerMaxFrame = DEFAULT_MAX_FRAME;
  #peer: PeerContext | undefined;
  #state: 'handshake' | 'open' | 'closing' | 'closed' = 'handshake';
  #closeError: Error | undefined;
  #goawayReceived: GoawayError | undefined;
  #resolveReady!: (p: PeerContext) => void;
  #rejectReady!: (e: Error) => void;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #keepaliveTimer: NodeJS.Timeout | undefined;
  // The monotonic time at which the socket chunk being decoded arrived: T1′ of clock requests
  // and T2 of clock responses are taken from it, the earliest point of our receive path.
  #chunkAt = 0n;
  readonly #progress: FrameProgress;
  readonly #budget: PeerBudget;
  readonly #maxUnreadBytes: number;
  #nextCallId = 1;
  #nextNonce = 1;
  readonly #pending = new Map<number, PendingCall>();
  readonly #running = new Map<number, RunningCall>();
  readonly #pings = new Map<number, { at: bigint; resolve: (rtt: bigint) => void; reject: (e: Error) => void }>();
  readonly #clocks = new Map<number, { resolve: (s: ClockSample) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #pendingHandlers = 0;
  #pauseReasons = new Set<string>();
  #rttNs: bigint | undefined;
  #framesIn = 0;
  #bytesIn = 0;
  #eventsIn = 0;
  #eventsInvalid = 0;
  #drainWaiters: (() => void)[] = [];

  constructor(socket: Duplex, options: ConnectionOptions) {
    super();
    this.socket = socket;
    this.#opts = options;
    this.#codec = new Codec(options.registry);
    this.#router = options.router;
    this.#now = options.now ?? process.hrtime.bigint;
    this.#logger = options.logger === null ? { warn: () => {} } : (options.logger ?? stderrLogger);
    // PROTOCOL.md §2: at least 1024, at most 1 GiB.
    this.#maxFrame = Math.min(Math.max(options.maxFrame ?? DEFAULT_MAX_FRAME, 1024), MAX_FRAME_CEILING);
    this.queue = options.queue ?? new EventQueue(options.queueOptions);
    this.#progress = new FrameProgress(options.frameDeadline);
    this.#budget = new PeerBudget(options.budget ?? {});
    this.#maxUnreadBytes = options.maxUnreadBytes ?? 1024 * 1024;
    this.#writer = new FrameWriter(socket, this.queue, { inlineLimit: options.inlineLimit });
    const metrics = options.metrics;
    if (metrics) this.#writer.onWritten = (type, kind, bytes) => metrics.frameOut(type, kind, bytes);
    this.#writer.onFlushed = (pendingCalls) => {
      if (pendingCalls < (options.maxConcurrentCalls ?? 1024) / 2) this.resume('replies');
    };
    this.ready = new Promise<PeerContext>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed through 'close' as well; never an unhandled rejection
    // Until the peer's HELLO is accepted only a HELLO-sized frame is acceptable.
    this.#decoder = new FrameDecoder((f) => this.#onFrame(f), {
      maxFrame: HELLO_MAX,
      isKnownType: (kind, type) => this.#isKnownType(kind, type),
    });
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', (err: Error) => this.#fail(err, false));
    socket.on('close', () => this.#onSocketClose());
    this.#handshakeTimer = setTimeout(() => {
      this.#goawayAndFail('HANDSHAKE_TIMEOUT', new VsockRpcError('HANDSHAKE_TIMEOUT', `no HELLO from ${options.peerInfo.address} within ${options.handshakeTimeoutMs ?? 10000} ms: is the peer a vsock-rpc endpoint?`));
    }, options.handshakeTimeoutMs ?? 10000);
    this.#handshakeTimer.unref?.();
    this.#sendHello();
  }

  /** The peer, once the handshake is done. */
  get peer(): PeerContext | undefined {
    return this.#peer;
  }

  /** 'handshake', 'open', 'closing' or 'closed'. */
  get state(): string {
    return this.#state;
  }

  /** The last keepalive round-trip time in ns. */
  get rttNs(): bigint | undefined {
    return this.#rttNs;
  }

  /** Milliseconds since the last complete frame from the peer (or since the connection began). */
  get idleMs(): number {
    return performance.now() - this.#progress.lastFrameAt;
  }

  /**
   * Closes this connection at once with GOAWAY `code` (e.g. `CONNECTION_LIMIT` when a server
   * makes room for a newcomer): calls in flight fail with a VsockRpcError of that code.
   */
  evict(code: string, message: string): void {
    this.#goawayAndFail(code, new VsockRpcError(code, message));
  }

  /** The error that closed the connection, if any. */
  get closeError(): Error | undefined {
    return this.#closeError;
  }

  /** Counters of this connection. */
  stats(): ConnectionStats {
    return {
      framesIn: this.#framesIn,
      framesOut: this.#writer.framesOut,
      bytesIn: this.#bytesIn,
      bytesOut: this.#writer.bytesOut,
      eventsIn: this.#eventsIn,
      eventsDropped: this.queue.dropped,
      eventsInvalid: this.#eventsInvalid,
      queueDepth: this.queue.length,
      pendingCalls: this.#pending.size,
      runningHandlers: this.#running.size,
      queuedReplies: this.#writer.pendingCalls,
      readPaused: [...this.#pauseReasons],
      rttNs: this.#rttNs,
    };
  }

  /**
   * Encodes and queues one event. Returns a promise only when the queue's 'block' policy
   * has to wait for room.
   * @throws SchemaViolationError if the value breaks its schema; QueueFullError (policy 'error').
   */
  send(type: string, value: unknown): void | Promise<void> {
    const entry = this.#codec.registry.message(type);
    const payload = this.#codec.encodeEntry(entry, value);
    if (payload.length > this.#peerMaxFrame) throw new FrameTooLargeError(payload.length, this.#peerMaxFrame);
    return this.queue.push(entry.id, payload);
  }

  /** Calls method `name`; resolves with the validated response. */
  call(name: string, request: unknown, options: CallOptions = {}): Promise<unknown> {
    const entry = this.#codec.registry.method(name);
    if (this.#state !== 'open') {
      return Promise.reject(this.#goawayReceived ?? this.#closeError ?? new ConnectionClosedError(`connection is ${this.#state}: call '${name}' was not sent`));
    }
    if (this.#goawayReceived) return Promise.reject(this.#goawayReceived);
    if (this.#pending.size >= (this.#opts.maxPendingCalls ?? 65536)) {
      return Promise.reject(new RpcError('RESOURCE_EXHAUSTED', `${this.#pending.size} calls already in flight on this connection: await some before starting more`));
    }
    if (options.signal?.aborted) return Promise.reject(new RpcError('CANCELLED', `call '${name}' cancelled before it was sent`));
    let payload: Buffer;
    try {
      payload = this.#codec.encodeMethod(entry, 'request', request);
    } catch (err) {
      return Promise.reject(err);
    }
    if (payload.length + 4 > this.#peerMaxFrame) return Promise.reject(new FrameTooLargeError(payload.length, this.#peerMaxFrame));
    const id = this.#allocCallId();
    return new Promise((resolve, reject) => {
      const call: PendingCall = { resolve, reject, method: name, entryId: entry.id, startMs: performance.now(), timer: undefined, cleanup: undefined };
      this.#pending.set(id, call);
      if (options.timeoutMs !== undefined) {
        call.timer = setTimeout(() => {
          this.#abandonCall(id, new RpcError('DEADLINE_EXCEEDED', `call '${name}' got no answer within ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      }
      const signal = options.signal;
      if (signal) {
        const onAbort = () => this.#abandonCall(id, new RpcError('CANCELLED', `call '${name}' cancelled`, undefined, { cause: signal.reason }));
        signal.addEventListener('abort', onAbort, { once: true });
        call.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#writer.pushCall(Kind.REQUEST, entry.id, id, payload, options.timeoutMs);
    });
  }

  /** Sends PING and resolves with the round-trip time in ns. */
  ping(timeoutMs = 5000): Promise<bigint> {
    if (this.#state !== 'open') return Promise.reject(this.#closeError ?? new ConnectionClosedError());
    const nonce = this.#nextNonce++ >>> 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(nonce);
        reject(new RpcError('DEADLINE_EXCEEDED', `no PONG within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pings.set(nonce, {
        at: process.hrtime.bigint(),
        resolve: (rtt) => {
          clearTimeout(timer);
          resolve(rtt);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#writer.writeUrgent(Kind.CONTROL, ControlType.PING, nonce, Buffer.alloc(0));
    });
  }

  /**
   * One clock exchange on the priority lane (PROTOCOL.md §4): T1 is taken immediately before
   * the write, T2 when the socket chunk holding the answer arrived.
   */
  clockExchange(timeoutMs = 5000): Promise<ClockSample> {
    if (this.#state !== 'open') return Promise.reject(this.#closeError ?? new ConnectionClosedError());
    const nonce = this.#nextNonce++ >>> 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#clocks.delete(nonce);
        reject(new RpcError('DEADLINE_EXCEEDED', `no CLOCK_RESPONSE within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#clocks.set(nonce, { resolve, reject, timer });
      this.#writer.writeUrgent(Kind.CONTROL, ControlType.CLOCK_REQUEST, nonce, Buffer.alloc(8), (payload) => {
        payload.writeBigInt64LE(this.#now(), 0);
      });
    });
  }

  /** This side's clock (skewed in tests), in ns. */
  now(): bigint {
    return this.#now();
  }

  /**
   * Resolves when every queued event has been handed to the socket (or the connection closed).
   */
  drained(): Promise<void> {
    if (this.#writer.idle) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drainWaiters.push(resolve);
      this.#pollDrain();
    });
  }

  /**
   * Closes gracefully: sends GOAWAY (SHUTDOWN), stops starting calls, lets calls in flight in
   * both directions finish and queued events go out, for at most `timeoutMs` (default 5000),
   * then ends the socket. Resolves when it is closed.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state === 'handshake') {
      this.destroy(new ConnectionClosedError('closed before the handshake finished'));
      return;
    }
    const deadline = performance.now() + timeoutMs;
    if (this.#state === 'open') {
      this.#state = 'closing';
      // Events go out BEFORE the GOAWAY: its sender sends no events after it (PROTOCOL.md §4),
      // and a peer that sees one closes with PROTOCOL_ERROR. Half the drain time is for them;
      // what is still queued then stays in the queue (a ClientEngine's queue is kept for the
      // next connection; a server's is dropped and counted at teardown).
      const eventsBy = performance.now() + timeoutMs / 2;
      this.#writer.flushNow();
      while (this.queue.length > 0 && performance.now() < eventsBy && !this.socket.destroyed && !this.#goawayReceived) {
        await new Promise((r) => setTimeout(r, 5));
      }
      this.#writer.stopEvents();
      if (this.#state === 'closing') {
        this.#writer.writeUrgent(Kind.CONTROL, ControlType.GOAWAY, 0, encodeErrorPayload({ code: 'SHUTDOWN', message: 'peer is shutting down' }));
      }
    }
    while (performance.now() < deadline && !this.socket.destroyed) {
      if (this.#pending.size === 0 && this.#running.size === 0 && this.#writer.pendingCalls === 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await this.#endSocket(Math.max(100, deadline - performance.now()));
  }

  /** Closes at once; calls in flight fail with `err` (or a ConnectionClosedError). */
  destroy(err?: Error): void {
    this.#fail(err ?? new ConnectionClosedError('connection destroyed locally'), false);
  }

  // ---- receive path ----

  readonly #onData = (chunk: Buffer): void => {
    const startMs = performance.now();
    this.#chunkAt = this.#now();
    this.#bytesIn += chunk.length;
    this.#opts.metrics?.bytesIn(chunk.length);
    const framesBefore = this.#framesIn;
    try {
      this.#decoder.push(chunk);
    } catch (err) {
      this.#onDecodeFailure(err);
      return;
    }
    if (this.#state === 'closed') return;
    const endMs = performance.now();
    this.#progress.onChunk(this.#framesIn - framesBefore, this.#decoder.pendingFrameBytes, endMs);
    if (this.socket.writableLength > this.#maxUnreadBytes) this.#pauseUntilDrain();
    if (this.#budget.limited) this.#charge(chunk.length, endMs - startMs, endMs);
  };

  /** Answers piling up unread: read nothing more from this peer until it has read them. */
  #pauseUntilDrain(): void {
    if (this.#pauseReasons.has('unread')) return;
    this.pause('unread');
    this.socket.once('drain', () => this.resume('unread'));
  }

  /** Charges one chunk to the peer's budget: slows it (pauses reading) or closes it when over. */
  #charge(bytes: number, cpuMs: number, now: number): void {
    const verdict = this.#budget.charge(bytes, cpuMs, now);
    if (verdict.action === 'ok') return;
    if (verdict.action === 'close') {
      this.#opts.metrics?.error('RESOURCE_EXHAUSTED');
      this.#goawayAndFail('RESOURCE_EXHAUSTED', new VsockRpcError('RESOURCE_EXHAUSTED', `${this.#describePeer()} was ${verdict.reason}: closing (raise the server's budget option if this peer is legitimately this busy)`));
      return;
    }
    if (this.#pauseReasons.has('budget')) return;
    this.#opts.metrics?.error('THROTTLED');
    this.pause('budget');
    setTimeout(() => this.resume('budget'), verdict.pauseMs).unref?.();
  }

  /** The decoder refused the stream: the peer gets the GOAWAY code PROTOCOL.md §6 names for it. */
  #onDecodeFailure(err: unknown): void {
    if (err instanceof FrameTooLargeError && this.#state === 'handshake') {
      // Before HELLO the limit is the protocol's fixed HELLO_MAX, not a maxFrame anyone can raise.
      this.#goawayAndFail('FRAME_TOO_LARGE', new ProtocolError('FRAME_TOO_LARGE', `the first frame from ${this.#opts.peerInfo.address} announces ${err.length} bytes, above the ${HELLO_MAX}-byte limit of a HELLO (PROTOCOL.md §2): the peer is not a vsock-rpc endpoint, or sent another frame before its HELLO`));
    } else if (err instanceof ProtocolError) {
      this.#goawayAndFail(err.code === 'FRAME_TOO_LARGE' ? 'FRAME_TOO_LARGE' : 'PROTOCOL_ERROR', err);
    } else {
      this.#goawayAndFail('PROTOCOL_ERROR', err as Error);
    }
  }

  readonly #onEnd = (): void => {
    try {
      this.#decoder.end();
    } catch (err) {
      this.#fail(err as Error, true);
      return;
    }
    // The peer half-closed: finish our side once what we owe is written.
    if (this.#state === 'handshake') {
      this.#fail(this.#goawayReceived ?? new ConnectionClosedError(`peer ${this.#opts.peerInfo.address} closed during the handshake: is it a vsock-rpc endpoint of the same protocol?`), false);
      return;
    }
    void this.#endSocket(1000);
  };

  #isKnownType(kind: Kind, type: number): boolean {
    if (kind === Kind.CONTROL) return CONTROL_NAMES[type] !== undefined;
    if (kind === Kind.EVENT) return type < RESERVED_ID_MIN && this.#codec.registry.messageById(type) !== undefined;
    // An unknown (or reserved) method in a REQUEST is answered with ERROR UNKNOWN_METHOD, and a
    // RESPONSE or ERROR nobody waits for is ignored, whatever its type (PROTOCOL.md §6).
    return true;
  }

  #onFrame(f: Frame): void {
    // A fatal error (e.g. a refused HELLO) may close us mid-chunk: the frames behind it in the
    // same chunk are from a peer we no longer talk to.
    if (this.#state === 'closed') return;
    this.#framesIn++;
    this.#opts.metrics?.frameIn(f.type, f.kind, f.end - f.start + 12);
    if (this.#state === 'handshake') {
      if (f.kind === Kind.CONTROL && f.type === ControlType.GOAWAY) {
        this.#onGoaway(f.payload);
        return;
      }
      if (f.kind !== Kind.CONTROL || f.type !== ControlType.HELLO) {
        throw new ProtocolErrorBeforeHello(f.kind, f.type);
      }
      this.#onHello(f.payload);
      return;
    }
    if (this.#goawayReceived && (f.kind === Kind.EVENT || f.kind === Kind.REQUEST)) {
      throw new ProtocolError('PROTOCOL_ERROR', `${f.kind === Kind.EVENT ? 'an EVENT' : 'a REQUEST'} (type ${f.type}) after the peer's own GOAWAY: its sender starts no new calls and sends no new events (PROTOCOL.md §4)`);
    }
    switch (f.kind) {
      case Kind.EVENT:
        this.#onEvent(f);
        return;
      case Kind.REQUEST:
        // 0 is never a call id (PROTOCOL.md §2): a peer that sends it has no way to match the answer.
        if (f.id === 0) throw new ProtocolError('PROTOCOL_ERROR', `a REQUEST for method id ${f.type} with call id 0: call ids are 1 … 2^32−1 (PROTOCOL.md §2)`);
        this.#onRequest(f);
        return;
      case Kind.RESPONSE:
      case Kind.ERROR:
        this.#onReply(f);
        return;
      case Kind.CONTROL:
        this.#onControl(f);
        return;
    }
  }

  #onHello(payload: Buffer): void {
    const hello = decodeHello(payload);
    const differences = compareHello(hello, this.#opts.registry);
    if (differences.length > 0) {
      const message = `HELLO mismatch with ${hello.name || 'peer'} at ${this.#opts.peerInfo.address}: ${differences.join('; ')}. Both ends must run the same protocol version and the same registry.`;
      this.#goawayAndFail('HELLO_MISMATCH', new HelloMismatchError(message, differences));
      return;
    }
    clearTimeout(this.#handshakeTimer);
    this.#peerMaxFrame = hello.maxFrame;
    this.#decoder.maxFrame = this.#maxFrame;
    const info = this.#opts.peerInfo;
    this.#peer = { name: hello.name, address: info.address, transport: info.transport, cid: info.cid, connectionId: this.id };
    this.#state = 'open';
    this.#startWatchdog();
    this.#resolveReady(this.#peer);
    this.emit('ready', this.#peer);
    this.#writer.open(); // and writes what was queued before the handshake (e.g. across a reconnect)
  }

  #onEvent(f: Frame): void {
    const entry = this.#codec.registry.messageById(f.type)!;
    let value: unknown;
    try {
      value = this.#codec.decodeMessageAt(entry, f.source, f.start, f.end, f.owned);
    } catch (err) {
      // The frame boundary is intact: drop this event, count it, keep the connection.
      this.#eventsInvalid++;
      this.#opts.metrics?.error((err as VsockRpcError).code ?? 'DECODE_ERROR');
      // Logged (once per kind) whether or not anyone listens: the engines always forward
      // 'eventError', so making the line depend on listeners meant it was never written.
      this.#warnOnce((err as VsockRpcError).code ?? 'DECODE_ERROR', `dropped an invalid '${entry.name}' event from ${this.#describePeer()}: ${(err as Error).message}`);
      if (this.listenerCount('eventError') > 0) this.emit('eventError', err);
      return;
    }
    this.#eventsIn++;
    const peer = this.#peer!;
    const handlers = this.#router.eventHandlers(f.type);
    const any = this.#router.anyHandlers;
    if ((!handlers || handlers.length === 0) && any.length === 0) {
      this.#opts.inbox.put({ type: entry.name, value, peer });
      return;
    }
    // Handlers are called directly (no closure per event: this runs once per received event).
    if (handlers) {
      for (const h of handlers) {
        let result: unknown;
        try {
          result = h(value, peer);
        } catch (err) {
          this.#handlerThrew(entry.name, err);
          continue;
        }
        if (result instanceof Promise) this.#trackHandler(result, entry.name);
      }
    }
    for (const h of any) {
      let result: unknown;
      try {
        result = h(entry.name, value, peer);
      } catch (err) {
        this.#handlerThrew(entry.name, err);
        continue;
      }
      if (result instanceof Promise) this.#trackHandler(result, entry.name);
    }
  }

  /** A throwing handler is the application's bug, not the peer's: log it, keep the connection. */
  #handlerThrew(type: string, err: unknown): void {
    this.#opts.metrics?.error('HANDLER_ERROR');
    this.#warnOnce('EVENT_HANDLER', `handler of '${type}' threw: ${(err as Error)?.message ?? String(err)}`);
  }

  /** Counts a handler's pending promise for flow control (reading pauses past maxPendingHandlers). */
  #trackHandler(result: Promise<unknown>, type: string): void {
    this.#pendingHandlers++;
    if (this.#pendingHandlers >= (this.#opts.maxPendingHandlers ?? 1024)) this.pause('handlers');
    result.then(
      () => this.#handlerDone(),
      (err: unknown) => {
        this.#handlerDone();
        this.#opts.metrics?.error('HANDLER_ERROR');
        this.#warnOnce('EVENT_HANDLER', `handler of '${type}' failed: ${(err as Error)?.message ?? String(err)}`);
      },
    );
  }

  #handlerDone(): void {
    this.#pendingHandlers--;
    if (this.#pendingHandlers < (this.#opts.maxPendingHandlers ?? 1024) / 2) this.resume('handlers');
  }

  #onRequest(f: Frame): void {
    const id = f.id;
    const route = this.#router.methodHandler(f.type);
    if (!route) {
      const known = this.#codec.registry.methodById(f.type);
      this.#sendError(f.type, id, 'UNKNOWN_METHOD', known ? `no handler is registered for method '${known.name}' (id ${f.type}) on ${this.#opts.name ?? 'this peer'}` : `method id ${f.type} is not in this peer's registry`);
      return;
    }
    if (this.#state === 'closing') {
      this.#sendError(f.type, id, 'UNAVAILABLE', 'peer is shutting down: retry on another connection');
      return;
    }
    if (this.#running.size >= (this.#opts.maxConcurrentCalls ?? 1024)) {
      this.#sendError(f.type, id, 'RESOURCE_EXHAUSTED', `${this.#running.size} calls already running on this connection: retry later`);
      return;
    }
    // Replies the peer has not read yet count against the limit too: a peer that sends requests
    // but never reads the answers would otherwise grow the call lane without bound. Past the
    // limit, stop reading from it until the writer has drained half of them.
    const maxCalls = this.#opts.maxConcurrentCalls ?? 1024;
    if (this.#running.size + this.#writer.pendingCalls >= maxCalls) this.pause('replies');
    const { entry, handler } = route;
    let request: unknown;
    try {
      request = this.#codec.decodeMethodAt(entry, 'request', f.source, f.start, f.end, f.owned);
    } catch (err) {
      const e = err as VsockRpcError;
      this.#opts.metrics?.error(e.code ?? 'DECODE_ERROR');
      this.#sendError(f.type, id, 'INVALID_ARGUMENT', e.message, e instanceof SchemaViolationError ? { path: e.path } : undefined);
      return;
    }
    const call = new RunningCall(this.#peer!, f.deadlineMs !== undefined ? performance.now() + f.deadlineMs : undefined, entry.name, id);
    this.#running.set(id, call);
    if (f.deadlineMs !== undefined) {
      call.timer = setTimeout(() => call.abort(new RpcError('DEADLINE_EXCEEDED', 'deadline passed')), f.deadlineMs);
    }
    let result: unknown;
    try {
      result = handler(request, call);
    } catch (err) {
      this.#finishCall(call, f.type, entry, undefined, err, true);
      return;
    }
    // A synchronous handler is answered in this same tick: no promise, no extra microtask.
    if (result === null || typeof result !== 'object' || typeof (result as PromiseLike<unknown>).then !== 'function') {
      this.#finishCall(call, f.type, entry, result, undefined, false);
      return;
    }
    (result as PromiseLike<unknown>).then(
      (response) => this.#finishCall(call, f.type, entry, response, undefined, false),
      (err: unknown) => this.#finishCall(call, f.type, entry, undefined, err, true),
    );
  }

  /** Sends the outcome of a handler, unless the call was cancelled or the connection closed. */
  #finishCall(call: RunningCall, type: number, entry: MethodEntry, response: unknown, err: unknown, failed: boolean): void {
    clearTimeout(call.timer);
    const id = call.callId;
    if (this.#running.get(id) !== call) return;
    this.#running.delete(id);
    if (call.aborted) {
      this.#sendAbortReason(type, id, call.abortReason);
      return;
    }
    if (failed) {
      if (err instanceof RpcError) this.#sendError(type, id, err.code, err.message, err.details);
      else this.#sendError(type, id, 'INTERNAL', `handler of '${entry.name}' failed: ${(err as Error)?.message ?? String(err)}`);
      return;
    }
    let payload: Buffer;
    try {
      payload = this.#codec.encodeMethod(entry, 'response', response);
    } catch (e) {
      this.#sendError(type, id, 'INTERNAL', `handler of '${entry.name}' returned an invalid response: ${(e as Error).message}`);
      return;
    }
    if (payload.length > this.#peerMaxFrame) {
      this.#sendError(type, id, 'INTERNAL', `response of '${entry.name}' is ${payload.length} bytes, above the caller's maximum frame ${this.#peerMaxFrame}`);
      return;
    }
    this.#writer.pushCall(Kind.RESPONSE, type, id, payload);
  }

  #sendAbortReason(type: number, id: number, reason: unknown): void {
    // After CANCEL the caller is gone: nothing to send. After the deadline, say so (it may
    // still be listening if its own timer is longer).
    if (reason instanceof RpcError && reason.code === 'DEADLINE_EXCEEDED') this.#sendError(type, id, 'DEADLINE_EXCEEDED', 'the deadline passed before the handler finished');
  }

  #onReply(f: Frame): void {
    const call = this.#pending.get(f.id);
    if (!call || call.entryId !== f.type) return; // timed out or cancelled: ignore (PROTOCOL.md §6)
    this.#pending.delete(f.id);
    clearTimeout(call.timer);
    call.cleanup?.();
    const entry = this.#codec.registry.methodById(f.type)!;
    const seconds = (performance.now() - call.startMs) / 1000;
    if (f.kind === Kind.RESPONSE) {
      let value: unknown;
      try {
        value = this.#codec.decodeMethodAt(entry, 'response', f.source, f.start, f.end, f.owned);
      } catch (err) {
        this.#opts.metrics?.callDone(call.method, seconds, 'INVALID_RESPONSE');
        call.reject(err as Error);
        return;
      }
      this.#opts.metrics?.callDone(call.method, seconds, 'OK');
      call.resolve(value);
      return;
    }
    let payload;
    try {
      payload = decodeErrorPayload(f.payload);
    } catch (err) {
      payload = { code: 'INTERNAL', message: `undecodable error payload: ${(err as Error).message}` };
    }
    this.#opts.metrics?.callDone(call.method, seconds, payload.code);
    call.reject(new RpcError(payload.code, `${call.method}: ${payload.message}`, payload.details));
  }

  #onControl(f: Frame): void {
    switch (f.type) {
      case ControlType.PING:
        this.#writer.writeUrgent(Kind.CONTROL, ControlType.PONG, f.id, Buffer.alloc(0));
        return;
      case ControlType.PONG: {
        const p = this.#pings.get(f.id);
        if (!p) return;
        this.#pings.delete(f.id);
        this.#rttNs = process.hrtime.bigint() - p.at;
        this.#opts.metrics?.rtt(this.#rttNs);
        p.resolve(this.#rttNs);
        return;
      }
      case ControlType.CANCEL: {
        const c = this.#running.get(f.id);
        if (c) {
          this.#running.delete(f.id);
          c.abort(new RpcError('CANCELLED', 'the caller cancelled'));
        }
        return;
      }
      case ControlType.GOAWAY:
        this.#onGoaway(f.payload);
        return;
      case ControlType.CLOCK_REQUEST: {
        const t1 = decodeClockRequest(f.payload);
        const response = encodeClockResponse({ t1, t1r: this.#chunkAt, t2r: 0n });
        this.#writer.writeUrgent(Kind.CONTROL, ControlType.CLOCK_RESPONSE, f.id, response, (p) => stampClockResponse(p, this.#now()));
        return;
      }
      case ControlType.CLOCK_RESPONSE: {
        const waiter = this.#clocks.get(f.id);
        if (!waiter) return;
        this.#clocks.delete(f.id);
        clearTimeout(waiter.timer);
        const r = decodeClockResponse(f.payload);
        waiter.resolve({ t1: r.t1, t1r: r.t1r, t2r: r.t2r, t2: this.#chunkAt });
        return;
      }
      case ControlType.HELLO:
        throw new ProtocolErrorBeforeHello(f.kind, f.type, 'a second HELLO');
    }
  }

  #onGoaway(payload: Buffer): void {
    let code: string;
    let message: string;
    try {
      ({ code, message } = decodeErrorPayload(payload));
    } catch (err) {
      throw new ProtocolError('PROTOCOL_ERROR', `an undecodable GOAWAY payload (${(err as Error).message}): a GOAWAY carries an ErrorPayload (PROTOCOL.md §4, §6)`);
    }
    this.#goawayReceived = new GoawayError(code, message);
    this.#writer.stopEvents();
    this.emit('goaway', code, message);
    if (this.#state === 'handshake') {
      this.#fail(this.#goawayReceived, false);
      return;
    }
    // Any code but SHUTDOWN means the peer has failed the connection (PROTOCOL.md §6) and will
    // answer nothing more: report its code now instead of a clean close once the socket ends.
    if (code !== 'SHUTDOWN') {
      this.#fail(this.#goawayReceived, true);
      return;
    }
    if (this.#state === 'open') this.#state = 'closing';
  }

  // ---- send helpers ----

  #sendHello(): void {
    const reg = this.#opts.registry;
    const hello: Hello = {
      version: PROTOCOL_VERSION,
      fingerprint: reg.fingerprint,
      name: this.#opts.name ?? defaultName(),
      maxFrame: this.#maxFrame,
      inlineLimit: this.#opts.inlineLimit ?? DEFAULT_INLINE_LIMIT,
      types: reg.summary.map((s) => [s.id, s.name, s.kind === 'message' ? 'm' : 'r', s.hash] as [number, string, string, string]),
      features: [...(this.#opts.features ?? ['clock', 'keepalive'])],
    };
    this.#writer.writeUrgent(Kind.CONTROL, ControlType.HELLO, 0, encodeHello(hello));
  }

  #sendError(type: number, id: number, code: string, message: string, details?: unknown): void {
    this.#writer.pushCall(Kind.ERROR, type, id, encodeErrorPayload(details === undefined ? { code, message } : { code, message, details }));
  }

  #allocCallId(): number {
    let id = this.#nextCallId;
    while (id === 0 || this.#pending.has(id)) id = (id + 1) >>> 0;
    this.#nextCallId = (id + 1) >>> 0;
    return id;
  }

  #abandonCall(id: number, err: Error): void {
    const call = this.#pending.get(id);
    if (!call) return;
    this.#pending.delete(id);
    clearTimeout(call.timer);
    call.cleanup?.();
    this.#opts.metrics?.callDone(call.method, (performance.now() - call.startMs) / 1000, (err as VsockRpcError).code ?? 'ERROR');
    // A REQUEST not yet written is simply taken back; a written one is cancelled (PROTOCOL.md §4).
    if (!this.#writer.unqueueRequest(id) && (this.#state === 'open' || this.#state === 'closing')) {
      this.#writer.writeUrgent(Kind.CONTROL, ControlType.CANCEL, id, Buffer.alloc(0));
    }
    call.reject(err);
  }

  // ---- flow control ----

  /** Stops reading from the socket for `reason` (reasons stack; reading resumes when all are gone). */
  pause(reason: string): void {
    if (this.#pauseReasons.size === 0) this.socket.pause();
    this.#pauseReasons.add(reason);
  }

  /** Removes a pause reason. */
  resume(reason: string): void {
    if (!this.#pauseReasons.delete(reason)) return;
    if (this.#pauseReasons.size === 0 && !this.socket.destroyed) this.socket.resume();
  }

  // ---- keepalive and receive deadlines ----

  /**
   * One timer per open connection: sends PING after `keepaliveMs` without a complete frame,
   * closes with IDLE_TIMEOUT after `idleTimeoutMs` without one (a byte is not progress), and with
   * FRAME_TIMEOUT when the frame in progress is later than its size allows (receive-deadlines.ts).
   */
  #startWatchdog(): void {
    const keepaliveMs = this.#opts.keepaliveMs ?? 5000;
    const idleMs = this.#opts.idleTimeoutMs ?? keepaliveMs * 3;
    const periods = [1000, keepaliveMs / 2, idleMs / 2].filter((ms) => ms > 0);
    this.#keepaliveTimer = setInterval(() => this.#watch(keepaliveMs, idleMs), Math.max(10, Math.min(...periods)));
    this.#keepaliveTimer.unref?.();
  }

  #watch(keepaliveMs: number, idleMs: number): void {
    const now = performance.now();
    const pending = this.#decoder.pendingFrameBytes;
    const overdueMs = this.#progress.overdueMs(pending, now);
    if (overdueMs > 0) {
      this.#goawayAndFail('FRAME_TIMEOUT', new VsockRpcError('FRAME_TIMEOUT', `a ${pending}-byte frame from ${this.#describePeer()} was not complete within ${this.#progress.allowanceMs(pending)} ms: closing (a peer on a slow link needs a lower frameDeadline.minBytesPerSecond)`));
      return;
    }
    if (this.#progress.inFrame) return; // a frame on time is progress
    const silentMs = now - this.#progress.lastFrameAt;
    if (idleMs > 0 && silentMs > idleMs) {
      this.#goawayAndFail('IDLE_TIMEOUT', new VsockRpcError('IDLE_TIMEOUT', `nothing heard from ${this.#describePeer()} for ${Math.round(silentMs)} ms (no complete frame: bytes alone are not progress): closing (raise idleTimeoutMs if the peer is just slow)`));
      return;
    }
    if (keepaliveMs > 0 && silentMs >= keepaliveMs && this.#pings.size === 0) {
      this.ping(Math.max(keepaliveMs, 1000)).catch(() => {});
    }
  }

  // ---- teardown ----

  #goawayAndFail(code: string, err: Error): void {
    if (this.#state === 'closed') return;
    try {
      this.#writer.writeUrgent(Kind.CONTROL, ControlType.GOAWAY, 0, encodeErrorPayload({ code, message: err.message }));
    } catch {
      /* the socket may already be gone */
    }
    this.#fail(err, true);
  }

  #fail(err: Error, endGracefully: boolean): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#closeError = err;
    const code = (err as VsockRpcError).code ?? (err as NodeJS.ErrnoException).code ?? 'ERROR';
    this.#opts.metrics?.error(code);
    this.#log(`connection ${this.id} to ${this.#describePeer()} closed: ${err.message}`);
    this.#teardown(err);
    if (endGracefully) {
      // Let the GOAWAY out, then close.
      this.socket.end();
      // Cleared when the socket closes: a pending timer would keep this Connection (and its
      // buffers) alive for a second after every rejected peer, and a storm of them adds up.
      const timer = setTimeout(() => this.socket.destroy(), 1000);
      timer.unref?.();
      this.socket.once('close', () => clearTimeout(timer));
    } else {
      this.socket.destroy();
    }
  }

  #teardown(err: Error | undefined): void {
    clearTimeout(this.#handshakeTimer);
    clearInterval(this.#keepaliveTimer);
    this.#writer.close();
    const callErr = err ?? new ConnectionClosedError();
    const pendingErr = err instanceof ConnectionClosedError || err === undefined ? callErr : new ConnectionClosedError(`connection closed (${err.message}): the call may or may not have run on the peer`);
    for (const [, call] of this.#pending) {
      clearTimeout(call.timer);
      call.cleanup?.();
      call.reject(pendingErr);
    }
    this.#pending.clear();
    for (const [, c] of this.#running) c.abort(new ConnectionClosedError());
    this.#running.clear();
    for (const [, p] of this.#pings) p.reject(pendingErr);
    this.#pings.clear();
    for (const [, c] of this.#clocks) {
      clearTimeout(c.timer);
      c.reject(pendingErr);
    }
    this.#clocks.clear();
    for (const r of this.#drainWaiters.splice(0)) r();
    // Events still queued in a queue of this connection's own will never leave: count them as
    // dropped (a queue passed in, a ClientEngine's, keeps them for the next connection).
    if (!this.#opts.queue) this.queue.clear();
    this.#rejectReady(err ?? new ConnectionClosedError('closed before the handshake finished'));
  }

  #onSocketClose(): void {
    if (this.#state !== 'closed') {
      const err = this.#state === 'closing' ? undefined : (this.#goawayReceived ?? new ConnectionClosedError(`peer ${this.#describePeer()} closed the connection`));
      this.#state = 'closed';
      this.#closeError = err;
      if (err) {
        this.#opts.metrics?.error(err instanceof GoawayError ? err.reason : 'UNAVAILABLE');
        if (!(err instanceof GoawayError && err.reason === 'SHUTDOWN')) this.#log(`connection ${this.id} to ${this.#describePeer()} closed: ${err.message}`);
      }
      this.#teardown(err);
    }
    this.emit('close', this.#closeError);
  }

  async #endSocket(timeoutMs: number): Promise<void> {
    if (this.socket.destroyed) return;
    this.#writer.flushNow();
    await this.drained();
    if (this.#state !== 'closed') {
      this.#state = 'closed';
      this.#teardown(undefined);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, timeoutMs);
      timer.unref?.();
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
  }

  #pollDrain(): void {
    if (this.#drainWaiters.length === 0) return;
    if (this.#writer.idle || this.socket.destroyed) {
      for (const r of this.#drainWaiters.splice(0)) r();
      return;
    }
    setTimeout(() => this.#pollDrain(), 2).unref?.();
  }

  #warned = new Map<string, number>();
  /** One log line per kind of problem per 10 s: a flood of bad frames must not flood the log. */
  #warnOnce(kind: string, message: string): void {
    const now = performance.now();
    const last = this.#warned.get(kind);
    if (last !== undefined && now - last < 10_000) return;
    this.#warned.set(kind, now);
    this.#log(message);
  }

  /**
   * Every line this connection logs passes here: it quotes what the peer chose (its HELLO name,
   * GOAWAY messages, schema paths), and a newline or an ANSI escape in those must not forge a
   * log line or reach the operator's terminal raw.
   */
  #log(message: string): void {
    this.#logger.warn(escapeText(message, 2048));
  }

  #describePeer(): string {
    return this.#peer ? `${this.#peer.name}@${this.#peer.address}` : this.#opts.peerInfo.address;
  }
}

/**
 * A call from the peer while its handler runs: the handler's {@link CallContext}. Its
 * AbortController is made only when the handler reads `signal` (creating one per call cost
 * several µs of a ~20 µs round trip); an abort before that is replayed onto it.
 */
class RunningCall implements CallContext {
  readonly name: string;
  readonly address: string;
  readonly transport: PeerContext['transport'];
  readonly cid: number | undefined;
  readonly connectionId: number;
  timer: NodeJS.Timeout | undefined;
  aborted = false;
  abortReason: unknown;
  #controller: AbortController | undefined;

  constructor(
    peer: PeerContext,
    readonly deadline: number | undefined,
    readonly method: string,
    readonly callId: number,
  ) {
    this.name = peer.name;
    this.address = peer.address;
    this.transport = peer.transport;
    this.cid = peer.cid;
    this.connectionId = peer.connectionId;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.abortReason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.#controller?.abort(reason);
  }
}

/** A frame other than HELLO (or GOAWAY) arrived before the handshake finished. */
class ProtocolErrorBeforeHello extends ProtocolError {
  constructor(kind: number, type: number, what?: string) {
    super('PROTOCOL_ERROR', `${what ?? `a frame of kind ${kind}, type 0x${type.toString(16)}`} arrived where HELLO was expected: the peer does not follow the handshake of PROTOCOL.md §5`);
  }
}

/** Lists what differs between a peer's HELLO and our registry; empty when they match. */
export function compareHello(hello: Hello, registry: Registry): string[] {
  const out: string[] = [];
  if (hello.version !== PROTOCOL_VERSION) out.push(`protocol version ${hello.version} vs ours ${PROTOCOL_VERSION}`);
  if (hello.fingerprint === registry.fingerprint) return out;
  const theirs = new Map(hello.types.map(([id, name, kind, hash]) => [id, { name, kind, hash }]));
  const ours = new Map(registry.summary.map((s) => [s.id, s]));
  for (const [id, o] of ours) {
    const t = theirs.get(id);
    if (!t) out.push(`'${o.name}' (id ${id}) is missing on the peer`);
    else if (t.name !== o.name) out.push(`id ${id} is '${o.name}' here but '${t.name}' on the peer`);
    else if (t.hash !== o.hash) out.push(`'${o.name}' (id ${id}) has a different schema on the peer`);
  }
  for (const [id, t] of theirs) if (!ours.has(id)) out.push(`'${t.name}' (id ${id}) exists only on the peer`);
  if (out.length === 0) out.push(`registry fingerprint ${hello.fingerprint} vs ours ${registry.fingerprint}`);
  return out;
}

function defaultName(): string {
  return process.env.HOSTNAME ?? `pid-${process.pid}`;
}

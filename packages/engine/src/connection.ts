/**
 * One vsock-rpc connection: its state machine, frame dispatch, public API and teardown. The work
 * is done by parts that see it only through a ConnectionCore (connection-core.ts): the handshake
 * (handshake.ts), our calls (outgoing-calls.ts), the peer's calls (incoming-calls.ts), PING/CLOCK/
 * CANCEL (control-lane.ts), the receive path's entry, its guards and the watchdog
 * (receive-guard.ts), event dispatch (event-dispatch.ts), streams (streams.ts, with
 * stream-channel.ts and stream-handlers.ts) and graceful close (graceful-close.ts). Each part
 * checks the rules of the frames it receives; this file routes them by kind. Outstanding work of
 * every kind lives in a PendingTable (deadline-table.ts): teardown rejects everything in every table.
 *
 * States, and only these moves: 'handshake' → 'open' (the peer's HELLO is accepted);
 * 'open' → 'closing' (we close(), or the peer's GOAWAY SHUTDOWN); any → 'closed' (a failure,
 * the socket's end or close). Only this file writes the state.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { ControlType, DEFAULT_MAX_FRAME, FrameDecoder, Kind, MAX_FRAME_CEILING } from '@vsock-rpc/wire';
import { VsockRpcError, type Frame } from '@vsock-rpc/wire';
import type { CallOptions, ClockSample, ConnectionOptions, ConnectionStats } from './connection-options.js';
import { SharedCore } from './connection-core.js';
import { ControlLane, decodeGoaway } from './control-lane.js';
import { ConnectionClosedError, GoawayError } from './errors.js';
import { EventDispatch } from './event-dispatch.js';
import { EventQueue } from './event-queue.js';
import { FrameWriter } from './frame-writer.js';
import { GracefulClose } from './graceful-close.js';
import { HELLO_MAX, Handshake, ProtocolErrorBeforeHello, bulkNegotiated } from './handshake.js';
import { IncomingCalls } from './incoming-calls.js';
import { OutgoingCalls } from './outgoing-calls.js';
import type { PeerContext } from './peer.js';
import { encodeEvent } from './event-encoder.js';
import { ReceiveGuard, knownTypes } from './receive-guard.js';
import { Streams } from './streams.js';
import type { UntypedStreamCall } from './stream-types.js';

export type { CallOptions, ClockSample, ConnectionOptions, ConnectionStats, ReceivedEvent } from './connection-options.js';
export { compareHello } from './handshake.js';

/** Where a connection is in its life (see the file's header for the moves). */
export type ConnectionState = 'handshake' | 'open' | 'closing' | 'closed';

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
  readonly #core: SharedCore;
  readonly #maxFrame: number;
  readonly #decoder: FrameDecoder;
  readonly #outgoing: OutgoingCalls;
  readonly #incoming: IncomingCalls;
  readonly #control: ControlLane;
  readonly #events: EventDispatch;
  readonly #guard: ReceiveGuard;
  readonly #handshake: Handshake;
  readonly #closer: GracefulClose;
  readonly #streams: Streams;
  #resolveReady!: (p: PeerContext) => void;
  #rejectReady!: (e: Error) => void;

  constructor(socket: Duplex, options: ConnectionOptions) {
    super();
    this.socket = socket;
    // PROTOCOL.md §2: at least 1024, at most 1 GiB.
    this.#maxFrame = Math.min(Math.max(options.maxFrame ?? DEFAULT_MAX_FRAME, 1024), MAX_FRAME_CEILING);
    this.queue = options.queue ?? new EventQueue(options.queueOptions);
    const writer = new FrameWriter(socket, this.queue, { inlineLimit: options.inlineLimit });
    const metrics = options.metrics;
    if (metrics) writer.onWritten = (type, kind, bytes) => metrics.frameOut(type, kind, bytes);
    const core = (this.#core = new SharedCore(socket, options, writer, (err, graceful) => this.#fail(err, graceful)));
    this.ready = new Promise<PeerContext>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed through 'close' as well; never an unhandled rejection
    // Until the peer's HELLO is accepted only a HELLO-sized frame is acceptable.
    this.#decoder = new FrameDecoder((f) => this.#onFrame(f), {
      maxFrame: HELLO_MAX,
      isKnownType: knownTypes(core.codec.registry),
    });
    this.#outgoing = new OutgoingCalls(core);
    this.#incoming = new IncomingCalls(core, options.router);
    this.#streams = new Streams(core, options.router);
    this.#control = new ControlLane(core, this.#incoming);
    this.#events = new EventDispatch(core, options.router, (err) => this.listenerCount('eventError') > 0 && this.emit('eventError', err));
    this.#closer = new GracefulClose(
      core,
      this.queue,
      () => this.#outgoing.size + this.#incoming.size + this.#streams.size,
      () => this.#closed(undefined),
    );
    this.#guard = new ReceiveGuard(core, this.#decoder, this.#control, this.#closer);
    socket.on('data', this.#guard.onData);
    socket.on('end', this.#guard.onEnd);
    socket.on('error', (err: Error) => this.#fail(err, false));
    socket.on('close', () => this.#onSocketClose());
    this.#handshake = new Handshake(core, this.#maxFrame); // arms its deadline, sends our HELLO
  }

  /** The largest payload the peer accepts (its HELLO's maxFrame; the protocol default before it). */
  get peerMaxFrame(): number {
    return this.#core.peerMaxFrame;
  }

  /** The peer, once the handshake is done. */
  get peer(): PeerContext | undefined {
    return this.#core.peer;
  }

  get state(): ConnectionState {
    return this.#core.state;
  }

  /** The last keepalive round-trip time in ns. */
  get rttNs(): bigint | undefined {
    return this.#control.rttNs;
  }

  /** Milliseconds since the last complete frame from the peer (or since the connection began). */
  get idleMs(): number {
    return performance.now() - this.#guard.lastFrameAt;
  }

  /**
   * Closes this connection at once with GOAWAY `code` (e.g. `CONNECTION_LIMIT` when a server
   * makes room for a newcomer): calls in flight fail with a VsockRpcError of that code.
   */
  evict(code: string, message: string): void {
    this.#core.goawayAndFail(code, new VsockRpcError(code, message));
  }

  /** The error that closed the connection, if any. */
  get closeError(): Error | undefined {
    return this.#core.closeError;
  }

  /** Counters of this connection. */
  stats(): ConnectionStats {
    const writer = this.#core.writer;
    return {
      framesIn: this.#core.framesIn,
      framesOut: writer.framesOut,
      bytesIn: this.#guard.bytesIn,
      bytesOut: writer.bytesOut,
      eventsIn: this.#events.eventsIn,
      eventsDropped: this.queue.dropped,
      eventsInvalid: this.#events.eventsInvalid,
      queueDepth: this.queue.length,
      pendingCalls: this.#outgoing.size,
      runningHandlers: this.#incoming.size,
      queuedReplies: writer.pendingCalls,
      readPaused: this.#core.pauseReasons,
      rttNs: this.#control.rttNs,
      streams: this.#streams.size,
    };
  }

  /**
   * Encodes and queues one event. Returns a promise only when the queue's 'block' policy
   * has to wait for room.
   * @throws SchemaViolationError if the value breaks its schema; QueueFullError (policy 'error').
   */
  send(type: string, value: unknown): void | Promise<void> {
    const { id, payload } = encodeEvent(this.#core.codec, type, value, this.#core.peerMaxFrame);
    return this.queue.push(id, payload);
  }

  /** Calls method `name`; resolves with the validated response. */
  call(name: string, request: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.#outgoing.call(name, request, options);
  }

  /**
   * Opens stream `name` (PROTOCOL.md §11): `openStream(name, request, options?)` for a `server`
   * stream, `openStream(name, options?)` otherwise. The engines' `openStream` is the typed form.
   * A stream that cannot open (connection not open, a peer without streams, the peer's
   * `maxStreams` reached, an invalid request) comes back already failed: its reads and writes
   * reject with the reason.
   */
  openStream(name: string, ...args: unknown[]): UntypedStreamCall {
    return this.#streams.open(name, args);
  }

  /** Whether streams are on for this connection (both HELLOs listed "streams"). */
  get streamsEnabled(): boolean {
    return this.#streams.enabled;
  }

  /** Sends PING and resolves with the round-trip time in ns. */
  ping(timeoutMs = 5000): Promise<bigint> {
    return this.#control.ping(timeoutMs);
  }

  /**
   * One clock exchange on the priority lane (PROTOCOL.md §4): T1 is taken immediately before
   * the write, T2 when the socket chunk holding the answer arrived.
   */
  clockExchange(timeoutMs = 5000): Promise<ClockSample> {
    return this.#control.clockExchange(timeoutMs);
  }

  /** This side's clock (skewed in tests), in ns. */
  now(): bigint {
    return this.#core.now();
  }

  /** Resolves when every queued event has been handed to the socket (or the connection closed). */
  drained(): Promise<void> {
    return this.#closer.drained();
  }

  /**
   * Closes gracefully: sends GOAWAY (SHUTDOWN), stops starting calls, lets calls in flight in
   * both directions finish and queued events go out, for at most `timeoutMs` (default 5000),
   * then ends the socket. Resolves when it is closed.
   */
  async close(timeoutMs = 5000): Promise<void> {
    const core = this.#core;
    if (core.state === 'closed') return;
    if (core.state === 'handshake') return this.destroy(new ConnectionClosedError('closed before the handshake finished'));
    const wasOpen = core.state === 'open';
    if (wasOpen) core.state = 'closing';
    await this.#closer.close(timeoutMs, wasOpen);
  }

  /** Closes at once; calls in flight fail with `err` (or a ConnectionClosedError). */
  destroy(err?: Error): void {
    this.#fail(err ?? new ConnectionClosedError('connection destroyed locally'), false);
  }

  /** Stops reading from the socket for `reason` (reasons stack; reading resumes when all are gone). */
  pause(reason: string): void {
    this.#core.pause(reason);
  }

  /** Removes a pause reason. */
  resume(reason: string): void {
    this.#core.resume(reason);
  }

  // ---- receive path (the socket's data and end: receive-guard.ts) ----

  /** One frame from the decoder: counted, held to the handshake, and routed by kind to its part. */
  #onFrame(f: Frame): void {
    const core = this.#core;
    // A fatal error (e.g. a refused HELLO) may close us mid-chunk: the frames behind it in the
    // same chunk are from a peer we no longer talk to.
    if (core.state === 'closed') return;
    core.framesIn++;
    // A BODY frame (PROTOCOL.md §12): header, body length, value and body.
    core.metrics?.frameIn(f.type, f.kind, f.body === undefined ? f.end - f.start + 12 : f.end - f.start + 16 + f.body.length);
    if (core.state === 'handshake') {
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
    // After the peer's own GOAWAY no EVENT, REQUEST or OPEN may come: each part checks its kind.
    switch (f.kind) {
      case Kind.EVENT:
        this.#events.onEvent(f);
        return;
      case Kind.REQUEST:
        this.#incoming.onRequest(f);
        return;
      case Kind.RESPONSE:
      case Kind.ERROR:
        this.#outgoing.onReply(f);
        return;
      case Kind.CONTROL:
        if (f.type === ControlType.GOAWAY) this.#onGoaway(f.payload);
        else this.#control.onFrame(f);
        return;
      case Kind.OPEN:
      case Kind.DATA:
      case Kind.WINDOW:
      case Kind.RESET:
        this.#streams.onFrame(f);
        return;
    }
  }

  #onHello(payload: Buffer): void {
    const hello = this.#handshake.accept(payload);
    if (!hello) return;
    const core = this.#core;
    core.peerMaxFrame = hello.maxFrame;
    this.#decoder.maxFrame = this.#maxFrame;
    // Stream kinds are accepted only when both sides offered them (PROTOCOL.md §11).
    this.#decoder.streams = this.#streams.enable(hello);
    const bulk = bulkNegotiated(core.options.features, hello);
    this.#decoder.bulk = bulk;
    this.#streams.bulk = bulk;
    const info = core.options.peerInfo;
    const peer: PeerContext = { name: hello.name, address: info.address, transport: info.transport, cid: info.cid, connectionId: this.id };
    core.peer = peer;
    core.state = 'open';
    this.#guard.start();
    this.#resolveReady(peer);
    this.emit('ready', peer);
    // Writes what was queued before the handshake (e.g. across a reconnect); a queued event too
    // large for this peer is dropped and counted there, never sent to be refused.
    core.writer.open(hello.maxFrame, bulk);
  }

  #onGoaway(payload: Buffer): void {
    const core = this.#core;
    const { code, message } = decodeGoaway(payload);
    const goaway = (core.goawayReceived = new GoawayError(code, message));
    core.writer.stopEvents();
    this.emit('goaway', code, message);
    if (core.state === 'handshake') {
      this.#fail(goaway, false);
      return;
    }
    // Any code but SHUTDOWN means the peer has failed the connection (PROTOCOL.md §6) and will
    // answer nothing more: report its code now instead of a clean close once the socket ends.
    if (code !== 'SHUTDOWN') {
      this.#fail(goaway, true);
      return;
    }
    if (core.state === 'open') core.state = 'closing';
  }

  // ---- teardown ----

  #fail(err: Error, endGracefully: boolean): void {
    if (this.#core.state === 'closed') return;
    this.#closed(err, (err as VsockRpcError).code ?? (err as NodeJS.ErrnoException).code ?? 'ERROR');
    this.#closer.endAfterFailure(endGracefully);
  }

  #onSocketClose(): void {
    const core = this.#core;
    // Never after a GOAWAY: one in the handshake, or other than SHUTDOWN, has closed us already,
    // and SHUTDOWN moved us to 'closing'.
    if (core.state !== 'closed')
      this.#closed(core.state === 'closing' ? undefined : new ConnectionClosedError(`peer ${core.describePeer()} closed the connection`), 'UNAVAILABLE');
    this.emit('close', core.closeError);
  }

  /**
   * Moves to 'closed' and tears down: stops every timer and rejects everything outstanding, in
   * every table. `err` (counted as `code`, and logged) is why; undefined for a clean close.
   */
  #closed(err: Error | undefined, code = 'ERROR'): void {
    const core = this.#core;
    core.state = 'closed';
    core.closeError = err;
    if (err) {
      core.metrics?.error(code);
      core.log(`connection ${this.id} to ${core.describePeer()} closed: ${err.message}`);
    }
    this.#handshake.stop();
    this.#guard.stop();
    core.writer.close();
    const callErr = err ?? new ConnectionClosedError();
    const pendingErr =
      err instanceof ConnectionClosedError || err === undefined
        ? callErr
        : new ConnectionClosedError(`connection closed (${err.message}): the call may or may not have run on the peer`);
    this.#outgoing.rejectAll(pendingErr);
    this.#incoming.abortAll(new ConnectionClosedError());
    this.#control.rejectAll(pendingErr);
    this.#streams.closeAll(pendingErr);
    this.#closer.releaseWaiters();
    // Events still queued in a queue of this connection's own will never leave: count them as
    // dropped (a queue passed in, a ClientEngine's, keeps them for the next connection).
    if (!core.options.queue) this.queue.clear();
    this.#rejectReady(err ?? new ConnectionClosedError('closed before the handshake finished'));
  }
}

/**
 * Streams of one connection (PROTOCOL.md §11): opening ours, accepting the peer's, OPEN / DATA /
 * WINDOW / RESET dispatch, credit per stream, half-close, deadlines, cancellation from either
 * side, and teardown. One {@link StreamChannel} per stream serves both ends: it is the opener's
 * `ServerStreamCall` / `ClientStreamCall` / `BidiStreamCall`, and the acceptor's request reader
 * and `StreamResponder`.
 *
 * What a peer can grow is bounded: the streams it opens by our `maxStreams` (beyond it, RESET
 * RESOURCE_EXHAUSTED), what it sends on each by the credit we grant (a frame beyond it is
 * FLOW_CONTROL, GOAWAY PROTOCOL_ERROR). A stream never pauses the socket: a slow consumer holds
 * back only its own stream, by not giving credit back.
 */
import { Readable, Writable } from 'node:stream';
import {
  DEFAULT_MAX_STREAMS,
  DEFAULT_STREAM_WINDOW,
  FEATURE_STREAMS,
  Flags,
  FrameTooLargeError,
  Kind,
  ProtocolError,
  SchemaViolationError,
  decodeErrorPayload,
  decodeWindow,
  encodeErrorPayload,
  encodeWindow,
  type Codec,
  type Frame,
  type Hello,
  type MethodEntry,
  type StreamEntry,
  type VsockRpcError,
} from '@vsock-rpc/wire';
import type { ConnectionCore } from './connection-core.js';
import { ReceiveCredit, SendCredit } from './credit-window.js';
import { ConnectionClosedError, RpcError } from './errors.js';
import type { PeerContext } from './peer.js';
import type { Router } from './router.js';
import { StreamLane } from './stream-lane.js';
import type { StreamOptions, UntypedStreamCall } from './stream-types.js';

/** A stream entry in the shape the Codec's method helpers take (same checkers, so the same cached encoders). */
function methodShape(entry: StreamEntry): MethodEntry {
  return {
    kind: 'method',
    name: entry.name,
    id: entry.id,
    request: entry.request,
    response: entry.response,
    checkRequest: entry.checkRequest,
    checkResponse: entry.checkResponse,
  };
}

interface PendingWrite {
  readonly payload: Buffer | undefined;
  readonly end: boolean;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** The streams of one connection. */
export class Streams {
  readonly #core: ConnectionCore;
  readonly #codec: Codec;
  readonly #router: Router;
  readonly #lane: StreamLane;
  readonly #table = new Map<number, StreamChannel>();
  readonly #shapes = new Map<number, MethodEntry>();
  /** What we announce: the credit we grant per stream, and how many streams the peer may open. */
  readonly window: number;
  readonly maxStreams: number;
  /** Parity of our stream ids: 1 (odd) when we dialed, 0 (even) when we accepted. */
  readonly #parity: number;
  #nextId: number;
  #enabled = false;
  #peerWindow = DEFAULT_STREAM_WINDOW;
  #peerMaxStreams = DEFAULT_MAX_STREAMS;
  #openedByPeer = 0;
  #openedByUs = 0;

  constructor(core: ConnectionCore, router: Router) {
    this.#core = core;
    this.#codec = core.codec;
    this.#router = router;
    const o = core.options;
    this.window = o.streamWindow ?? DEFAULT_STREAM_WINDOW;
    this.maxStreams = o.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.#parity = o.initiator === false ? 0 : 1;
    this.#nextId = this.#parity === 1 ? 1 : 2;
    this.#lane = new StreamLane(core, { inlineLimit: o.inlineLimit });
  }

  /** Whether both HELLOs listed "streams" (only then do stream frames travel). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Streams open on this connection, both ways. */
  get size(): number {
    return this.#table.size;
  }

  /** Called with the peer's accepted HELLO: turns streams on if both sides list the feature. */
  enable(hello: Hello, ours: readonly string[]): boolean {
    this.#enabled = ours.includes(FEATURE_STREAMS) && (hello.features ?? []).includes(FEATURE_STREAMS);
    this.#peerWindow = hello.streamWindow ?? DEFAULT_STREAM_WINDOW;
    this.#peerMaxStreams = hello.maxStreams ?? DEFAULT_MAX_STREAMS;
    return this.#enabled;
  }

  /**
   * Opens stream `name` (PROTOCOL.md §11). A `server` stream sends its request with the OPEN and
   * half-closes at once. Failures to start (not open, no streams on this connection, too many
   * streams, an invalid request) come back as a stream that has already failed, so that every
   * error surfaces where the caller reads or writes.
   */
  open(name: string, args: unknown[]): StreamChannel {
    const core = this.#core;
    const entry = this.#codec.registry.stream(name);
    const server = entry.mode === 'server';
    const request = server ? args[0] : undefined;
    const options = ((server ? args[1] : args[0]) ?? {}) as StreamOptions;
    const id = this.#allocId();
    const channel = new StreamChannel(this, core.peer, entry, id, true, this.#peerWindow, this.window, undefined, this.#peerWindow);
    let refusal: Error | undefined;
    if (core.state !== 'open')
      refusal = core.goawayReceived ?? core.closeError ?? new ConnectionClosedError(`connection is ${core.state}: stream '${name}' was not opened`);
    else if (core.goawayReceived) refusal = core.goawayReceived;
    else if (!this.#enabled)
      refusal = new RpcError(
        'UNIMPLEMENTED',
        `peer ${core.describePeer()} does not support streams (its HELLO lacks the "streams" feature): stream '${name}' was not opened`,
      );
    else if (this.#openedByUs >= this.#peerMaxStreams)
      refusal = new RpcError('RESOURCE_EXHAUSTED', `${this.#openedByUs} streams already open to this peer, its maximum (maxStreams): close some first`);
    else if (options.signal?.aborted) refusal = new RpcError('CANCELLED', `stream '${name}' cancelled before it was opened`);
    let payload: Buffer | undefined;
    if (!refusal && server) {
      try {
        payload = this.encode(entry, 'request', request, this.#peerWindow);
      } catch (err) {
        refusal = err as Error;
      }
    }
    if (refusal) {
      channel.failLocally(refusal);
      return channel;
    }
    this.#table.set(id, channel);
    this.#openedByUs++;
    if (payload) channel.spendInitial(payload.length);
    if (server) channel.markLocalEnded();
    this.#lane.push(Kind.OPEN, entry.id, id, payload ?? EMPTY, server ? Flags.END : 0, options.timeoutMs);
    if (options.timeoutMs !== undefined) channel.armDeadline(options.timeoutMs);
    const signal = options.signal;
    if (signal) {
      const onAbort = () => channel.cancel(`stream '${name}' cancelled`, signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void channel.closed.then(() => signal.removeEventListener('abort', onAbort));
    }
    return channel;
  }

  /** An OPEN, DATA, WINDOW or RESET from the peer. @throws ProtocolError on a FLOW_CONTROL or STREAM_STATE violation. */
  onFrame(f: Frame): void {
    switch (f.kind) {
      case Kind.OPEN:
        this.#onOpen(f);
        return;
      case Kind.DATA: {
        const s = this.#table.get(f.id);
        if (!s || s.entry.id !== f.type) return; // closed or reset meanwhile: ignored (PROTOCOL.md §11)
        s.onData(f);
        return;
      }
      case Kind.WINDOW: {
        let increment: number;
        try {
          increment = decodeWindow(f.payload);
        } catch (err) {
          throw new ProtocolError('STREAM_STATE', `${(err as Error).message} (PROTOCOL.md §11)`);
        }
        const s = this.#table.get(f.id);
        if (!s || s.entry.id !== f.type) return;
        s.onWindow(increment);
        return;
      }
      case Kind.RESET: {
        const s = this.#table.get(f.id);
        if (!s || s.entry.id !== f.type) return;
        let code = 'INTERNAL';
        let message = 'undecodable RESET payload';
        let details: unknown;
        try {
          ({ code, message, details } = decodeErrorPayload(f.payload));
        } catch {
          /* keep INTERNAL */
        }
        s.onReset(new RpcError(code, `stream '${s.entry.name}' reset by the peer: ${message}`, details));
        return;
      }
      default:
        return; // the Connection routes only the four stream kinds here
    }
  }

  #onOpen(f: Frame): void {
    const core = this.#core;
    const id = f.id;
    if (id === 0 || id % 2 === this.#parity)
      throw new ProtocolError(
        'STREAM_STATE',
        `an OPEN with stream id ${id}: the peer's stream ids are ${this.#parity ? 'even' : 'odd'} and never 0 (PROTOCOL.md §11)`,
      );
    if (this.#table.has(id)) throw new ProtocolError('STREAM_STATE', `an OPEN for stream ${id}, which is already open (PROTOCOL.md §11)`);
    const entry = this.#codec.registry.streamById(f.type);
    const handler = entry ? this.#router.streamHandler(entry.id) : undefined;
    if (!entry || !handler) {
      this.#resetUnknown(
        f.type,
        id,
        'UNKNOWN_METHOD',
        entry ? `no handler is registered for stream '${entry.name}'` : `stream method id ${f.type} is not in this peer's registry`,
      );
      return;
    }
    if (core.state === 'closing') {
      this.#resetUnknown(f.type, id, 'UNAVAILABLE', 'peer is shutting down: retry on another connection');
      return;
    }
    if (this.#openedByPeer >= this.maxStreams) {
      this.#resetUnknown(f.type, id, 'RESOURCE_EXHAUSTED', `${this.#openedByPeer} streams already open, this peer's maximum (maxStreams)`);
      return;
    }
    const bytes = f.end - f.start;
    const deadline = f.deadlineMs !== undefined ? performance.now() + f.deadlineMs : undefined;
    const channel = new StreamChannel(this, core.peer, entry, id, false, this.#peerWindow, this.window, deadline, this.#peerWindow);
    if (!channel.chargeInitial(bytes)) {
      throw new ProtocolError(
        'FLOW_CONTROL',
        `an OPEN of ${bytes} bytes on stream ${id}, above the credit of ${this.window} this side grants (PROTOCOL.md §11)`,
      );
    }
    this.#table.set(id, channel);
    this.#openedByPeer++;
    const end = (f.flags & Flags.END) !== 0;
    let first: unknown;
    if (bytes > 0) {
      try {
        first = this.decode(entry, 'request', f);
      } catch (err) {
        channel.rejectInput(err as VsockRpcError);
        return;
      }
    }
    if (entry.mode === 'server') {
      if (bytes === 0 || !end) {
        channel.reset('INVALID_ARGUMENT', `a 'server' stream's OPEN carries its one request and END (PROTOCOL.md §11)`);
        return;
      }
      channel.markRemoteEnded();
      channel.consumed(bytes);
    } else {
      if (bytes > 0) channel.enqueue(first, bytes);
      if (end) channel.markRemoteEnded();
    }
    if (f.deadlineMs !== undefined) channel.armDeadline(f.deadlineMs);
    channel.runHandler(handler, first);
  }

  /** RESET for an OPEN we do not take: nothing is kept of it. */
  #resetUnknown(type: number, id: number, code: string, message: string): void {
    this.#core.writer.writeUrgent(Kind.RESET, type, id, encodeErrorPayload({ code, message }));
  }

  // ---- what channels use ----

  /** Encodes one message of `entry`, refusing one above the peer's credit per stream or maxFrame. */
  encode(entry: StreamEntry, part: 'request' | 'response', value: unknown, peerWindow: number): Buffer {
    const payload = this.#codec.encodeMethod(this.#shape(entry), part, value);
    if (payload.length > this.#core.peerMaxFrame) throw new FrameTooLargeError(payload.length, this.#core.peerMaxFrame);
    if (payload.length > peerWindow)
      throw new RpcError(
        'RESOURCE_EXHAUSTED',
        `a ${payload.length}-byte message of stream '${entry.name}' is above the peer's stream window of ${peerWindow} bytes: no credit will ever admit it (PROTOCOL.md §11)`,
      );
    return payload;
  }

  /** Decodes one message of `entry` from frame `f` (binary values alias only a buffer the decoder owns). */
  decode(entry: StreamEntry, part: 'request' | 'response', f: Frame): unknown {
    return this.#codec.decodeMethodAt(this.#shape(entry), part, f.source, f.start, f.end, f.owned);
  }

  /** Queues an OPEN or DATA frame on the stream lane. */
  pushData(type: number, id: number, payload: Buffer, end: boolean): void {
    if (this.#core.state === 'closed') return;
    this.#lane.push(Kind.DATA, type, id, payload, end ? Flags.END : 0);
  }

  /** Grants `increment` bytes of credit on stream `id`. */
  sendWindow(type: number, id: number, increment: number): void {
    const state = this.#core.state;
    if (state === 'open' || state === 'closing') this.#core.writer.writeUrgent(Kind.WINDOW, type, id, encodeWindow(increment));
  }

  /**
   * Sends RESET for stream `id` behind its DATA already queued, unless its OPEN never left (then
   * the stream is simply taken back: the peer never heard of it).
   */
  sendReset(type: number, id: number, code: string, message: string, details?: unknown): void {
    if (this.#lane.unqueue(id, Kind.OPEN, true)) return;
    const state = this.#core.state;
    if (state !== 'open' && state !== 'closing') return;
    this.#lane.push(Kind.RESET, type, id, encodeErrorPayload(details === undefined ? { code, message } : { code, message, details }), 0);
  }

  /** Drops the stream's frames still queued (it was reset). */
  unqueue(id: number): void {
    this.#lane.unqueue(id, Kind.OPEN);
  }

  /** A stream closed: forget it. */
  forget(channel: StreamChannel): void {
    if (this.#table.get(channel.id) !== channel) return;
    this.#table.delete(channel.id);
    if (channel.local) this.#openedByUs--;
    else this.#openedByPeer--;
  }

  /** Fails every stream (teardown): readers and writers reject with `err`, handlers' signals abort. */
  closeAll(err: Error): void {
    this.#lane.clear();
    for (const s of [...this.#table.values()]) s.failLocally(err);
    this.#table.clear();
  }

  #shape(entry: StreamEntry): MethodEntry {
    let shape = this.#shapes.get(entry.id);
    if (!shape) this.#shapes.set(entry.id, (shape = methodShape(entry)));
    return shape;
  }

  #allocId(): number {
    let id = this.#nextId;
    while (id === 0 || this.#table.has(id)) id = (id + 2) % 0x100000000;
    this.#nextId = (id + 2) % 0x100000000;
    return id;
  }
}

const EMPTY = Buffer.alloc(0);
const DONE: IteratorResult<never, undefined> = { done: true, value: undefined };

/**
 * One stream, at either end. The opener uses it as its `…StreamCall`; the acceptor's handler
 * gets it as its request reader and, through {@link StreamChannel.context}, as its responder.
 */
export class StreamChannel implements UntypedStreamCall {
  readonly id: number;
  readonly entry: StreamEntry;
  /** Whether this side opened the stream. */
  readonly local: boolean;
  readonly #streams: Streams;
  readonly #peer: PeerContext | undefined;
  readonly #send: SendCredit;
  readonly #recv: ReceiveCredit;
  readonly #peerWindow: number;
  readonly deadline: number | undefined;
  // receive side
  readonly #items: unknown[] = [];
  readonly #sizes: number[] = [];
  #head = 0;
  #waiter: { resolve: (r: IteratorResult<unknown, undefined>) => void; reject: (e: Error) => void } | undefined;
  #remoteEnded = false;
  #discard = false;
  // send side
  readonly #pending: PendingWrite[] = [];
  /** END requested: no more writes. */
  #localEnded = false;
  /** END handed to the lane. */
  #endSent = false;
  #closeWhenDrained = false;
  #endPromise: Promise<void> | undefined;
  // life
  #error: Error | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #controller: AbortController | undefined;
  #resolveClosed!: () => void;
  readonly closed: Promise<void>;
  // the client-mode response
  #response: Promise<unknown> | undefined;
  #resolveResponse: ((v: unknown) => void) | undefined;
  #rejectResponse: ((e: Error) => void) | undefined;
  #responses = 0;

  constructor(
    streams: Streams,
    peer: PeerContext | undefined,
    entry: StreamEntry,
    id: number,
    local: boolean,
    sendWindow: number,
    recvWindow: number,
    deadline: number | undefined,
    peerWindow: number,
  ) {
    this.#streams = streams;
    this.#peer = peer;
    this.entry = entry;
    this.id = id;
    this.local = local;
    this.#send = new SendCredit(sendWindow);
    this.#recv = new ReceiveCredit(recvWindow);
    this.deadline = deadline;
    this.#peerWindow = peerWindow;
    this.closed = new Promise<void>((resolve) => (this.#resolveClosed = resolve));
    if (local && entry.mode === 'client') {
      this.#response = new Promise<unknown>((resolve, reject) => {
        this.#resolveResponse = resolve;
        this.#rejectResponse = reject;
      });
      this.#response.catch(() => {}); // reported through `response` to whoever awaits it
    }
  }

  // ---- the opener's API ----

  /** The one response of a `client`-mode stream. */
  get response(): Promise<unknown> {
    return (
      this.#response ??
      Promise.reject(new RpcError('INVALID_ARGUMENT', `stream '${this.entry.name}' is in mode '${this.entry.mode}': it has no single response`))
    );
  }

  /** Gives up on the stream: RESET CANCELLED; reads and writes fail with CANCELLED. */
  cancel(reason = 'cancelled', cause?: unknown): void {
    if (this.#closed) return;
    this.#fail(new RpcError('CANCELLED', reason, undefined, { cause }), 'CANCELLED', reason);
  }

  // ---- reading ----

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<any, undefined>> {
    if (this.#head < this.#items.length) return Promise.resolve({ done: false, value: this.#take() });
    if (this.#error) return Promise.reject(this.#error);
    if (this.#remoteEnded) return Promise.resolve(DONE);
    if (this.#waiter) return Promise.reject(new RpcError('INVALID_ARGUMENT', 'a stream is read by one consumer at a time: await each next()'));
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  /** Ends iteration early (`break` in `for await`): the opener cancels the stream; an acceptor stops reading and discards the rest. */
  return(): Promise<IteratorResult<any, undefined>> {
    if (this.local) {
      if (!this.#remoteEnded) this.cancel('the consumer stopped reading');
    } else this.#startDiscarding();
    return Promise.resolve(DONE);
  }

  readable(): Readable {
    return Readable.from(this, { objectMode: true });
  }

  // ---- writing ----

  write(value: unknown): Promise<void> {
    return this.#write(value, false, true);
  }

  end(value?: unknown): Promise<void> {
    if (this.#endPromise) return this.#endPromise;
    this.#endPromise = this.#write(value, true, value !== undefined);
    return this.#endPromise;
  }

  writable(): Writable {
    return new Writable({
      objectMode: true,
      write: (chunk: unknown, _encoding, callback) => {
        this.write(chunk).then(() => callback(), callback);
      },
      final: (callback) => {
        this.end().then(() => callback(), callback);
      },
      destroy: (err, callback) => {
        if (err) this.cancel(err.message);
        callback(err);
      },
    });
  }

  #write(value: unknown, end: boolean, hasValue: boolean): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#localEnded) return Promise.reject(new RpcError('INVALID_ARGUMENT', `stream '${this.entry.name}' was already ended by this side`));
    const mode = this.entry.mode;
    if (this.local ? mode === 'server' : mode === 'client' && this.#responses > 0)
      return Promise.reject(new RpcError('INVALID_ARGUMENT', `stream '${this.entry.name}' (mode '${mode}') takes no more messages from this side`));
    let payload: Buffer | undefined;
    if (hasValue) {
      try {
        payload = this.#streams.encode(this.entry, this.local ? 'request' : 'response', value, this.#peerWindow);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      if (!this.local) this.#responses++;
    }
    if (end) this.#localEnded = true;
    if (this.#pending.length === 0 && (!payload || this.#send.admits(payload.length))) {
      this.#emit(payload, end);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => this.#pending.push({ payload, end, resolve, reject }));
  }

  #emit(payload: Buffer | undefined, end: boolean): void {
    if (payload) this.#send.spend(payload.length);
    this.#streams.pushData(this.entry.id, this.id, payload ?? EMPTY, end);
    if (end) this.#afterLocalEnd();
  }

  #afterLocalEnd(): void {
    this.#endSent = true;
    if (this.#remoteEnded && this.#head >= this.#items.length) this.#close();
    else if (this.#remoteEnded) this.#closeWhenDrained = true;
  }

  // ---- frames from the peer ----

  onData(f: Frame): void {
    const bytes = f.end - f.start;
    const end = (f.flags & Flags.END) !== 0;
    if (this.#remoteEnded) throw new ProtocolError('STREAM_STATE', `DATA on stream ${this.id} after the peer's END (PROTOCOL.md §11)`);
    if (!this.#recv.charge(bytes))
      throw new ProtocolError('FLOW_CONTROL', `a DATA of ${bytes} bytes on stream ${this.id}, above the credit this side granted (PROTOCOL.md §11)`);
    if (bytes === 0 && !end) throw new ProtocolError('STREAM_STATE', `an empty DATA without END on stream ${this.id} (PROTOCOL.md §11)`);
    if (bytes > 0) {
      let value: unknown;
      try {
        value = this.#streams.decode(this.entry, this.local ? 'response' : 'request', f);
      } catch (err) {
        this.rejectInput(err as VsockRpcError);
        return;
      }
      if (this.local && this.entry.mode === 'client') {
        if (++this.#responses > 1 || !end) {
          this.reset('INVALID_ARGUMENT', `a 'client' stream has exactly one response, with END (PROTOCOL.md §11)`);
          return;
        }
        this.#resolveResponse?.(value);
        this.consumed(bytes);
      } else if (this.#discard) this.consumed(bytes);
      else this.enqueue(value, bytes);
    }
    if (end) {
      if (this.local && this.entry.mode === 'client' && this.#responses === 0) {
        this.reset('INVALID_ARGUMENT', `a 'client' stream has exactly one response, with END (PROTOCOL.md §11)`);
        return;
      }
      this.markRemoteEnded();
      if (this.#endSent && this.#head >= this.#items.length) this.#close();
      else if (this.#endSent) this.#closeWhenDrained = true;
    }
  }

  onWindow(increment: number): void {
    if (!this.#send.grant(increment)) throw new ProtocolError('FLOW_CONTROL', `a WINDOW on stream ${this.id} raised its credit above 2^32−1 (PROTOCOL.md §11)`);
    const pending = this.#pending;
    while (pending.length > 0) {
      const w = pending[0]!;
      if (w.payload && !this.#send.admits(w.payload.length)) break;
      pending.shift();
      this.#emit(w.payload, w.end);
      w.resolve();
    }
  }

  onReset(err: RpcError): void {
    this.#fail(err, undefined, undefined);
  }

  // ---- the acceptor ----

  /** Runs the stream's handler with the first message (`server`) or this reader (`client`, `bidi`). */
  runHandler(handler: (first: unknown, ctx: unknown) => unknown, first: unknown): void {
    const mode = this.entry.mode;
    const ctx = this.context();
    let result: unknown;
    try {
      result = handler(mode === 'server' ? first : this, ctx);
    } catch (err) {
      this.#handlerFailed(err);
      return;
    }
    void this.#finishHandler(result).catch((err: unknown) => this.#handlerFailed(err));
  }

  async #finishHandler(result: unknown): Promise<void> {
    const mode = this.entry.mode;
    if (mode === 'client') {
      const response = await result;
      if (this.#closed) return;
      await this.end(response);
      return;
    }
    if (result !== null && typeof result === 'object' && (Symbol.asyncIterator in result || Symbol.iterator in result)) {
      for await (const value of result as AsyncIterable<unknown>) {
        if (this.#closed) return;
        await this.write(value);
      }
    } else await result;
    if (!this.#closed && !this.#localEnded) await this.end();
  }

  #handlerFailed(err: unknown): void {
    if (this.#closed) return;
    if (err instanceof RpcError) this.reset(err.code, err.message, err.details);
    else this.reset('INTERNAL', `handler of stream '${this.entry.name}' failed: ${(err as Error)?.message ?? String(err)}`);
  }

  /** The handler's context: peer, signal, deadline, reset, and (for `server` and `bidi`) write/end. */
  context(): object {
    const peer = this.#peer!;
    return {
      name: peer.name,
      address: peer.address,
      transport: peer.transport,
      cid: peer.cid,
      connectionId: peer.connectionId,
      deadline: this.deadline,
      method: this.entry.name,
      streamId: this.id,
      signal: this.signal,
      reset: (code: string, message: string) => this.reset(code, message),
      write: (value: unknown) => this.write(value),
      end: (value?: unknown) => this.end(value),
      writable: () => this.writable(),
    };
  }

  /** Aborted when the stream fails (reset either way, deadline, connection closed). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#error) this.#controller.abort(this.#error);
    }
    return this.#controller.signal;
  }

  // ---- shared bookkeeping ----

  /** Ends the stream with RESET `code` to the peer. */
  reset(code: string, message: string, details?: unknown): void {
    if (this.#closed) return;
    this.#fail(new RpcError(code, message, details), code, message, details);
  }

  /** A message from the peer failed to decode: RESET INVALID_ARGUMENT; the connection goes on. */
  rejectInput(err: VsockRpcError): void {
    this.#fail(err, 'INVALID_ARGUMENT', err.message, err instanceof SchemaViolationError ? { path: err.path } : undefined);
  }

  /** Fails the stream here without telling the peer (teardown, or a stream that never opened). */
  failLocally(err: Error): void {
    if (this.#closed) return;
    this.#fail(err, undefined, undefined);
  }

  armDeadline(ms: number): void {
    this.#timer = setTimeout(() => {
      this.reset('DEADLINE_EXCEEDED', `stream '${this.entry.name}' did not finish within ${ms} ms`);
    }, ms);
  }

  /** Charges the OPEN's first message against the credit we grant; false on a violation. */
  chargeInitial(bytes: number): boolean {
    return this.#recv.charge(bytes);
  }

  /** Spends our credit on the OPEN's first message. */
  spendInitial(bytes: number): void {
    this.#send.spend(bytes);
  }

  markLocalEnded(): void {
    this.#localEnded = true;
    this.#endSent = true;
    this.#endPromise = Promise.resolve();
  }

  markRemoteEnded(): void {
    this.#remoteEnded = true;
    const w = this.#waiter;
    if (w && this.#head >= this.#items.length) {
      this.#waiter = undefined;
      w.resolve(DONE);
    }
  }

  enqueue(value: unknown, bytes: number): void {
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      this.consumed(bytes);
      w.resolve({ done: false, value });
      return;
    }
    this.#items.push(value);
    this.#sizes.push(bytes);
  }

  /** The application took `bytes`: give credit back once a quarter of the window is owed. */
  consumed(bytes: number): void {
    const n = this.#recv.consume(bytes);
    if (n > 0 && !this.#remoteEnded && !this.#closed) this.#streams.sendWindow(this.entry.id, this.id, n);
  }

  #take(): unknown {
    const i = this.#head++;
    const value = this.#items[i];
    const bytes = this.#sizes[i]!;
    this.#items[i] = undefined;
    if (this.#head >= this.#items.length) {
      this.#items.length = 0;
      this.#sizes.length = 0;
      this.#head = 0;
      if (this.#closeWhenDrained) this.#close();
    }
    this.consumed(bytes);
    return value;
  }

  #startDiscarding(): void {
    this.#discard = true;
    while (this.#head < this.#items.length) this.#take();
  }

  /** Fails the stream with `err`; with `code`, tells the peer with RESET. */
  #fail(err: Error, code: string | undefined, message: string | undefined, details?: unknown): void {
    if (this.#closed) return;
    this.#error = err;
    if (code !== undefined) this.#streams.sendReset(this.entry.id, this.id, code, message ?? err.message, details);
    else this.#streams.unqueue(this.id);
    // What was received and not read is dropped: the stream failed.
    this.#items.length = 0;
    this.#sizes.length = 0;
    this.#head = 0;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(err);
    for (const p of this.#pending.splice(0)) p.reject(err);
    this.#rejectResponse?.(err);
    this.#controller?.abort(err);
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#streams.forget(this);
    this.#resolveClosed();
  }
}

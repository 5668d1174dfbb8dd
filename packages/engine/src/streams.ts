/**
 * Streams of one connection (PROTOCOL.md §11): the table of open streams and their life: opening
 * ours, accepting the peer's, OPEN / DATA / WINDOW / RESET dispatch, resets, and teardown; and
 * what every stream shares (the codec, the stream lane, the peer's window). One stream, at either
 * end, is a {@link StreamChannel} (stream-channel.ts: the per-stream reader and writer, with its
 * credit, half-close, deadline and cancellation from either side); the acceptor's handler is run
 * by stream-handlers.ts, per mode. The three files hold one thing each: the connection's streams
 * here, one stream there, the adapter to the user's handler in the third.
 *
 * What a peer can grow is bounded: the streams it opens by our `maxStreams` (beyond it, RESET
 * RESOURCE_EXHAUSTED), what it sends on each by the credit we grant (a frame beyond it is
 * FLOW_CONTROL, GOAWAY PROTOCOL_ERROR). A stream never pauses the socket: a slow consumer holds
 * back only its own stream, by not giving credit back.
 */
import {
  BULK_THRESHOLD,
  DEFAULT_MAX_STREAMS,
  DEFAULT_STREAM_WINDOW,
  FEATURE_STREAMS,
  Flags,
  FrameTooLargeError,
  Kind,
  ProtocolError,
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
import { bulkLength, type DataPayload } from './bulk-events.js';
import type { ConnectionCore } from './connection-core.js';
import { afterPeerGoaway } from './control-lane.js';
import { ConnectionClosedError, RpcError } from './errors.js';
import { DEFAULT_FEATURES } from './handshake.js';
import type { Router } from './router.js';
import { EMPTY, StreamChannel } from './stream-channel.js';
import { runStreamHandler } from './stream-handlers.js';
import { StreamLane } from './stream-lane.js';
import type { StreamOptions } from './stream-types.js';

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
  /** Both HELLOs list "bulk": a DATA message's large binary goes as a BODY (PROTOCOL.md §12). Set by the connection. */
  bulk = false;
  /** Bytes of stream messages received and not yet read, over every stream (bounded by `maxStreamBufferBytes`). */
  bufferedBytes = 0;
  readonly #maxBuffered: number;

  constructor(core: ConnectionCore, router: Router) {
    this.#core = core;
    this.#codec = core.codec;
    this.#router = router;
    const o = core.options;
    this.window = o.streamWindow ?? DEFAULT_STREAM_WINDOW;
    this.maxStreams = o.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.#maxBuffered = o.maxStreamBufferBytes ?? 16 * 1024 * 1024;
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
  enable(hello: Hello): boolean {
    const ours = this.#core.options.features ?? DEFAULT_FEATURES;
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
    const channel = new StreamChannel(this, entry, id, true, this.#peerWindow, this.window, undefined, this.#peerWindow);
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
    if (core.goawayReceived) throw afterPeerGoaway('an OPEN', f.type);
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
    const channel = new StreamChannel(this, entry, id, false, this.#peerWindow, this.window, deadline, this.#peerWindow);
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
    runStreamHandler(channel, handler, first, core.peer!);
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
    if (payload.length > peerWindow) throw aboveWindow(payload.length, entry.name, peerWindow);
    return payload;
  }

  /**
   * {@link encode} for a DATA message: with "bulk" on, a top-level binary of at least
   * BULK_THRESHOLD bytes is split off as a BODY (PROTOCOL.md §12), not copied; the caller's
   * buffer then leaves as it is, so it must not change until written.
   */
  encodeData(entry: StreamEntry, part: 'request' | 'response', value: unknown, peerWindow: number): DataPayload {
    if (!this.bulk) return this.encode(entry, part, value, peerWindow);
    const bulk = this.#codec.encodeMethodBulk(this.#shape(entry), part, value, BULK_THRESHOLD);
    if (!bulk) return this.encode(entry, part, value, peerWindow);
    const bytes = bulkLength(bulk);
    if (bytes > this.#core.peerMaxFrame) throw new FrameTooLargeError(bytes, this.#core.peerMaxFrame);
    if (bytes > peerWindow) throw aboveWindow(bytes, entry.name, peerWindow);
    return bulk;
  }

  /** Decodes one message of `entry` from frame `f` (binary values alias only a buffer the decoder owns; a BODY is the decoder's own buffer). */
  decode(entry: StreamEntry, part: 'request' | 'response', f: Frame): unknown {
    return this.#codec.decodeMethodAt(this.#shape(entry), part, f.source, f.start, f.end, f.owned, f.body);
  }

  /**
   * Takes `bytes` of the connection's stream buffer for a message that waits for its reader;
   * false (and nothing taken) when that would pass `maxStreamBufferBytes`.
   */
  holdBuffered(bytes: number): boolean {
    if (this.bufferedBytes + bytes > this.#maxBuffered) return false;
    this.bufferedBytes += bytes;
    return true;
  }

  /** Gives back what {@link holdBuffered} took (the reader took the message, or the stream failed). */
  releaseBuffered(bytes: number): void {
    this.bufferedBytes -= bytes;
  }

  /** The bound of {@link bufferedBytes}, for messages. */
  get maxBufferedBytes(): number {
    return this.#maxBuffered;
  }

  /** Queues a DATA frame on the stream lane. */
  pushData(type: number, id: number, payload: DataPayload, end: boolean): void {
    if (this.#core.state === 'closed') return;
    if (Buffer.isBuffer(payload)) this.#lane.push(Kind.DATA, type, id, payload, end ? Flags.END : 0);
    else this.#lane.pushBulk(Kind.DATA, type, id, payload, end ? Flags.END : 0);
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

/** A message no credit will ever admit: it is larger than the peer's whole window. */
function aboveWindow(bytes: number, name: string, peerWindow: number): RpcError {
  return new RpcError(
    'RESOURCE_EXHAUSTED',
    `a ${bytes}-byte message of stream '${name}' is above the peer's stream window of ${peerWindow} bytes: no credit will ever admit it (PROTOCOL.md §11)`,
  );
}

/**
 * The public shapes of streams (PROTOCOL.md §11): what an opener gets back from `openStream`,
 * what a stream handler receives, and their options. Types only; streams.ts, stream-channel.ts
 * and stream-handlers.ts implement them.
 */
import type { Readable, Writable } from 'node:stream';
import type { Registry, StreamModeOf, StreamName, StreamRequestOf, StreamResponseOf } from '@vsock-rpc/wire';
import type { PeerContext } from './peer.js';

/** Options of one stream, at its opener. */
export interface StreamOptions {
  /**
   * Give up after this many ms from the opening, for the whole stream: the deadline travels
   * with the OPEN, the acceptor's handler is aborted, and both sides fail with DEADLINE_EXCEEDED.
   */
  readonly timeoutMs?: number;
  /** Cancels the stream: the peer gets RESET CANCELLED, and the stream fails here with CANCELLED. */
  readonly signal?: AbortSignal;
}

/**
 * The receiving side of a stream: an async iterable of validated messages, in order. Each
 * message consumed gives credit back to the sender (PROTOCOL.md §11), so a consumer that stops
 * consuming stops its sender, and only it. Iteration ends when the sender half-closes, and
 * throws (a `VsockRpcError`, e.g. an `RpcError` with the peer's RESET code) when the stream fails.
 */
export interface StreamReader<T> extends AsyncIterable<T> {
  /** The next message, or done when the sender has ended its side. */
  next(): Promise<IteratorResult<T, undefined>>;
  /** A Node.js `Readable` in object mode over the same messages (destroying it gives up the stream). */
  readable(): Readable;
}

/**
 * The sending side of a stream. `write` resolves once the peer's credit admits the message
 * (await it: that is the backpressure); `end` half-closes, optionally with a last message.
 */
export interface StreamWriter<T> {
  /**
   * Sends one message (validated against its schema first). Resolves when it is queued for the
   * socket within the peer's credit; rejects when the stream has failed or was ended.
   */
  write(value: T): Promise<void>;
  /** Sends `value` if given, then END: this side sends nothing more. Idempotent. */
  end(value?: T): Promise<void>;
  /** A Node.js `Writable` in object mode that writes through {@link write} and ends with {@link end}. */
  writable(): Writable;
}

/** What every stream has at its opener. */
export interface StreamCall {
  /** The stream id on the wire (odd when the dialer opened it, even when the acceptor did). */
  readonly id: number;
  /** Gives up on the stream: RESET CANCELLED to the peer; pending reads and writes fail with CANCELLED. */
  cancel(reason?: string): void;
  /** Resolves when the stream is closed, either way (never rejects). */
  readonly closed: Promise<void>;
}

/** A `server`-mode stream at its opener: the request went with the OPEN; read the responses. */
export interface ServerStreamCall<Res> extends StreamCall, StreamReader<Res> {}
/** A `client`-mode stream at its opener: write requests, `end()`, then await the one response. */
export interface ClientStreamCall<Req, Res> extends StreamCall, StreamWriter<Req> {
  /** The acceptor's one response (after it has read what it wanted); rejects if the stream fails. */
  readonly response: Promise<Res>;
}
/** A `bidi` stream at its opener: write requests and read responses, independently. */
export interface BidiStreamCall<Req, Res> extends StreamCall, StreamWriter<Req>, StreamReader<Res> {}

/** A stream at its opener, untyped (`Connection.openStream`): every method of every mode. */
export interface UntypedStreamCall extends BidiStreamCall<unknown, unknown> {
  /** The one response of a `client`-mode stream. */
  readonly response: Promise<unknown>;
}

/** What `openStream(name, …)` returns, by the stream's mode. */
export type OpenedStream<Reg extends Registry, K extends StreamName<Reg>> =
  StreamModeOf<Reg, K> extends 'server'
    ? ServerStreamCall<StreamResponseOf<Reg, K>>
    : StreamModeOf<Reg, K> extends 'client'
      ? ClientStreamCall<StreamRequestOf<Reg, K>, StreamResponseOf<Reg, K>>
      : BidiStreamCall<StreamRequestOf<Reg, K>, StreamResponseOf<Reg, K>>;

/** The arguments of `openStream(name, …)` after the name: a `server` stream takes its one request. */
export type OpenStreamArgs<Reg extends Registry, K extends StreamName<Reg>> =
  StreamModeOf<Reg, K> extends 'server' ? [request: StreamRequestOf<Reg, K>, options?: StreamOptions] : [options?: StreamOptions];

/** What a stream handler knows of its stream, besides the messages. */
export interface StreamContext extends PeerContext {
  /** Aborted when the opener cancels, the deadline passes, the stream is reset, or the connection closes. */
  readonly signal: AbortSignal;
  /** Absolute deadline on this process's monotonic clock (ms, performance.now()), if the opener sent one. */
  readonly deadline: number | undefined;
  /** The stream method's name. */
  readonly method: string;
  /** The stream id on the wire (for logs). */
  readonly streamId: number;
  /** Ends the stream at once with RESET `code` (the opener's reads and writes fail with it). */
  reset(code: string, message: string): void;
}

/** A stream handler's context when it sends responses (`server` and `bidi` modes). */
export interface StreamResponder<Res> extends StreamContext, StreamWriter<Res> {}

/**
 * A stream handler, by mode. `server`: `(request, stream)`, writing with `stream.write`, or an
 * `async function*` that yields the responses. `client`: `(requests, ctx)` returning the one
 * response. `bidi`: `(requests, stream)`, or an `async function*`. A handler that returns (or
 * whose generator finishes) ends the stream; one that throws resets it (an `RpcError` keeps
 * its code, anything else is INTERNAL).
 */
export type TypedStreamHandler<Reg extends Registry, K extends StreamName<Reg>> =
  StreamModeOf<Reg, K> extends 'server'
    ? (request: StreamRequestOf<Reg, K>, stream: StreamResponder<StreamResponseOf<Reg, K>>) => StreamHandlerResult<StreamResponseOf<Reg, K>>
    : StreamModeOf<Reg, K> extends 'client'
      ? (requests: StreamReader<StreamRequestOf<Reg, K>>, ctx: StreamContext) => StreamResponseOf<Reg, K> | Promise<StreamResponseOf<Reg, K>>
      : (requests: StreamReader<StreamRequestOf<Reg, K>>, stream: StreamResponder<StreamResponseOf<Reg, K>>) => StreamHandlerResult<StreamResponseOf<Reg, K>>;

/** What a `server` or `bidi` handler may return: nothing (it wrote through its stream), or the responses to send. */
export type StreamHandlerResult<Res> = void | Promise<void> | AsyncIterable<Res> | Iterable<Res>;

/** An untyped stream handler, as the router keeps it. */
export type StreamHandler = (first: any, ctx: any) => unknown;

/**
 * One stream, at either end (PROTOCOL.md §11): the per-stream reader and writer. A
 * {@link StreamChannel} is the opener's `ServerStreamCall` / `ClientStreamCall` / `BidiStreamCall`,
 * and the acceptor's request reader and (through the context of stream-handlers.ts) its
 * `StreamResponder`. It holds what one stream needs on its own: the messages received and not yet
 * read, the writes waiting for credit, the credit both ways (credit-window.ts), half-close, the
 * deadline and the failure. The connection's streams (streams.ts) own the table, the frames'
 * dispatch and the lane; the channel reaches them only through the few methods they expose.
 *
 * Kept apart from streams.ts so that each file holds one thing: there the table and the life of
 * streams (open, accept, reset, teardown), here one stream's reading and writing.
 */
import { Readable, Writable } from 'node:stream';
import { Flags, ProtocolError, SchemaViolationError, type Frame, type StreamEntry, type VsockRpcError } from '@vsock-rpc/wire';
import { dataBytes, type DataPayload } from './bulk-events.js';
import { ReceiveCredit, SendCredit } from './credit-window.js';
import { RpcError } from './errors.js';
import type { UntypedStreamCall } from './stream-types.js';
import type { Streams } from './streams.js';

interface PendingWrite {
  readonly payload: DataPayload | undefined;
  readonly end: boolean;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** A payload of no bytes (a bare END, an OPEN without a request). */
export const EMPTY = Buffer.alloc(0);
const DONE: IteratorResult<never, undefined> = { done: true, value: undefined };

/**
 * One stream, at either end. The opener uses it as its `…StreamCall`; the acceptor's handler
 * gets it as its request reader and, through its context (stream-handlers.ts), as its responder.
 */
export class StreamChannel implements UntypedStreamCall {
  readonly id: number;
  readonly entry: StreamEntry;
  /** Whether this side opened the stream. */
  readonly local: boolean;
  readonly #streams: Streams;
  readonly #send: SendCredit;
  readonly #recv: ReceiveCredit;
  readonly #peerWindow: number;
  readonly deadline: number | undefined;
  // receive side
  readonly #items: unknown[] = [];
  /** Bytes of #items, held in the connection's stream buffer (Streams.holdBuffered). */
  #bufferedBytes = 0;
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
    entry: StreamEntry,
    id: number,
    local: boolean,
    sendWindow: number,
    recvWindow: number,
    deadline: number | undefined,
    peerWindow: number,
  ) {
    this.#streams = streams;
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
    let payload: DataPayload | undefined;
    if (hasValue) {
      try {
        payload = this.#streams.encodeData(this.entry, this.local ? 'request' : 'response', value, this.#peerWindow);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      if (!this.local) this.#responses++;
    }
    if (end) this.#localEnded = true;
    if (this.#pending.length === 0 && (!payload || this.#send.admits(dataBytes(payload)))) {
      this.#emit(payload, end);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => this.#pending.push({ payload, end, resolve, reject }));
  }

  #emit(payload: DataPayload | undefined, end: boolean): void {
    if (payload) this.#send.spend(dataBytes(payload));
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
    // Credit counts the frame's whole payload; a BODY frame's is its length prefix, value and body (PROTOCOL.md §12).
    const bytes = f.body === undefined ? f.end - f.start : 4 + f.end - f.start + f.body.length;
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
      if (w.payload && !this.#send.admits(dataBytes(w.payload))) break;
      pending.shift();
      this.#emit(w.payload, w.end);
      w.resolve();
    }
  }

  onReset(err: RpcError): void {
    this.#fail(err, undefined, undefined);
  }

  // ---- the acceptor (its handler runs in stream-handlers.ts) ----

  /** Whether the stream is closed, either way (its handler stops sending). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Whether this side has ended its direction (END requested). */
  get localEnded(): boolean {
    return this.#localEnded;
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
    if (!this.#streams.holdBuffered(bytes)) {
      this.reset(
        'RESOURCE_EXHAUSTED',
        `stream '${this.entry.name}' reset: its connection already holds ${this.#streams.bufferedBytes} bytes of stream messages not yet read, its maximum (maxStreamBufferBytes ${this.#streams.maxBufferedBytes}): read streams sooner, or open fewer at once`,
      );
      return;
    }
    this.#bufferedBytes += bytes;
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
    this.#bufferedBytes -= bytes;
    this.#streams.releaseBuffered(bytes);
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
    this.#streams.releaseBuffered(this.#bufferedBytes);
    this.#bufferedBytes = 0;
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

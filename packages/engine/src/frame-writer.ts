import type { Duplex } from 'node:stream';
import { FrameEncoder, Kind, encodeFrame } from '@vsock-rpc/wire';
import type { EventQueue } from './event-queue.js';
import { bulkLength, takeBulk, type QueuedBulk } from './bulk-events.js';

/** Tuning of a {@link FrameWriter}. */
export interface FrameWriterOptions {
  readonly inlineLimit?: number;
  /**
   * Most bytes the writer lets sit in the socket's own buffer (default 128 KiB). Everything
   * beyond stays in our queues, where urgent frames can still overtake it.
   */
  readonly socketHighWater?: number;
  /** Bytes gathered into one write (default 64 KiB). */
  readonly batchBytes?: number;
}

interface PendingFrame {
  kind: Kind;
  type: number;
  id: number;
  payload: Buffer;
  deadlineMs: number | undefined;
}

/**
 * Moves frames from the connection's lanes onto the socket, in batches.
 *
 * Three lanes, in priority order:
 * 1. urgent (PONG, CLOCK_*, PING, CANCEL, GOAWAY): written at once, ahead of anything queued.
 *    This is the clock's priority lane: because the writer keeps the socket's own buffer below
 *    `socketHighWater` and holds the rest in its queues, a clock frame waits for at most that
 *    many bytes, never for the whole backlog of events. (A second connection was the
 *    alternative; it would double the handshake, the reconnect logic and the peer bookkeeping,
 *    and on vsock its packets share the same virtqueue anyway.)
 * 2. calls (REQUEST, RESPONSE, ERROR): bounded elsewhere by the in-flight call limits.
 * 3. events: the bounded {@link EventQueue} with its full-queue policy.
 *
 * Calls (lane 2) are flushed at the end of the tick (process.nextTick), events (lane 3) on
 * `setImmediate`: a round trip does not wait a whole loop turn, and every `send` of one tick shares one write.
 */
export class FrameWriter {
  readonly #socket: Duplex;
  readonly #encoder: FrameEncoder;
  readonly #queue: EventQueue;
  readonly #calls: PendingFrame[] = [];
  readonly #highWater: number;
  readonly #batchBytes: number;
  #scheduled = false;
  #tickScheduled = false;
  #waitingDrain = false;
  #closed = false;
  // After a GOAWAY, in either direction, no new event may leave (PROTOCOL.md §4): the event lane
  // stops and what is queued stays in the queue (a ClientEngine's queue outlives the connection).
  #eventsStopped = false;
  #peerMaxFrame = Number.MAX_SAFE_INTEGER;
  // Both HELLOs list "bulk": large binaries go as BODY frames (PROTOCOL.md §12).
  #bulk = false;
  // Only HELLO (and GOAWAY) may leave before the peer's HELLO is accepted (PROTOCOL.md §5).
  #open = false;
  /** Called after each write with frames and bytes per TYPE_ id (for metrics). */
  onWritten: ((type: number, kind: Kind, bytes: number) => void) | undefined;
  /** Called after each flush with the frames still waiting in the call lane. */
  onFlushed: ((pendingCalls: number) => void) | undefined;
  /** Frames and bytes written so far. */
  framesOut = 0;
  bytesOut = 0;

  constructor(socket: Duplex, queue: EventQueue, options: FrameWriterOptions = {}) {
    this.#socket = socket;
    this.#queue = queue;
    this.#encoder = new FrameEncoder({ inlineLimit: options.inlineLimit });
    this.#highWater = options.socketHighWater ?? 128 * 1024;
    this.#batchBytes = options.batchBytes ?? 64 * 1024;
    queue.onReadable = () => this.schedule();
    socket.on('drain', () => {
      this.#waitingDrain = false;
      this.schedule();
    });
  }

  /** Nothing left that this writer will still write: no calls queued, and no events (or the event lane stopped). */
  get idle(): boolean {
    return this.#calls.length === 0 && (this.#eventsStopped || this.#queue.length === 0);
  }

  /** Frames waiting in the call lane. */
  get pendingCalls(): number {
    return this.#calls.length;
  }

  /**
   * Writes one frame now, ahead of every queued frame. `beforeWrite` runs immediately before
   * the write call (the clock responder stamps T2′ there).
   */
  writeUrgent(kind: Kind, type: number, id: number, payload: Buffer, beforeWrite?: (payload: Buffer) => void): void {
    if (this.#closed) return;
    const frame = encodeFrame(kind, type, id, payload);
    if (beforeWrite) {
      beforeWrite(payload);
      frame.set(payload, 12);
    }
    this.#socket.write(frame);
    this.framesOut++;
    this.bytesOut += frame.length;
    this.onWritten?.(type, kind, frame.length);
  }

  /**
   * Opens lanes 2 and 3: called once the handshake is done, with the peer's maxFrame. Events
   * queued earlier (a ClientEngine's queue outlives a connection) may be larger than this peer
   * takes: those are dropped and counted ('oversized') instead of closing the connection.
   */
  open(peerMaxFrame = Number.MAX_SAFE_INTEGER, bulk = false): void {
    this.#peerMaxFrame = peerMaxFrame;
    this.#bulk = bulk;
    this.#open = true;
    this.schedule();
  }

  /** Queues a REQUEST, RESPONSE or ERROR frame. */
  pushCall(kind: Kind, type: number, id: number, payload: Buffer, deadlineMs?: number): void {
    if (this.#closed) return;
    this.#calls.push({ kind, type, id, payload, deadlineMs });
    this.#scheduleCalls();
  }

  /**
   * Removes a REQUEST still waiting in the call lane (not yet written); true if it was there.
   * A call abandoned that early must not send CANCEL: CANCEL goes on the urgent lane and would
   * overtake its own REQUEST, leaving the peer's handler running for a call nobody waits for.
   */
  unqueueRequest(id: number): boolean {
    const calls = this.#calls;
    for (let i = 0; i < calls.length; i++) {
      const f = calls[i]!;
      if (f.kind === Kind.REQUEST && f.id === id) {
        calls.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /**
   * Arranges a flush on the next turn of the event loop: events sent in one tick share a write.
   */
  schedule(): void {
    if (this.#scheduled || this.#waitingDrain || this.#closed || !this.#open) return;
    this.#scheduled = true;
    setImmediate(this.#flushImmediate);
  }

  /**
   * Calls flush sooner, at the end of the current tick (process.nextTick): a round trip must not
   * wait a whole event-loop turn on each side (it cost ~2× the raw ping-pong's latency), and
   * calls made in one synchronous run still share one write.
   */
  #scheduleCalls(): void {
    if (this.#tickScheduled || this.#waitingDrain || this.#closed || !this.#open) return;
    this.#tickScheduled = true;
    process.nextTick(this.#flushTick);
  }

  readonly #flushImmediate = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  readonly #flushTick = (): void => {
    this.#tickScheduled = false;
    this.#flush();
  };

  /** Stops the event lane for good (GOAWAY sent or received); calls and urgent frames go on. */
  stopEvents(): void {
    this.#eventsStopped = true;
  }

  /** Stops writing; queued frames are left where they are. */
  close(): void {
    this.#closed = true;
  }

  /** Writes whatever is queued now, synchronously, as far as the socket takes it. */
  flushNow(): void {
    this.#flush();
  }

  /** One bulk event: a BODY frame with the caller's buffer as its own chunk, or the plain payload for a peer without "bulk". */
  #pushBulk(type: number, q: QueuedBulk): void {
    const length = this.#bulk ? bulkLength(q.bulk) : 0;
    const payload = this.#bulk ? undefined : q.join();
    if ((payload ? payload.length : length) > this.#peerMaxFrame) {
      this.#queue.countOversized();
      return;
    }
    if (payload) this.#encoder.push(Kind.EVENT, type, 0, payload);
    else this.#encoder.pushBulk(Kind.EVENT, type, 0, q.bulk.value, q.bulk.body);
    this.onWritten?.(type, Kind.EVENT, 12 + (payload ? payload.length : length));
  }

  readonly #flush = (): void => {
    const socket = this.#socket;
    if (this.#closed || !this.#open || socket.destroyed || !socket.writable) return;
    const enc = this.#encoder;
    const queue = this.#queue;
    const calls = this.#calls;
    // A few batches per turn, then yield so that reads and timers get their turn too.
    for (let round = 0; round < 8 && socket.writableLength < this.#highWater; round++) {
      let callIdx = 0;
      while (callIdx < calls.length && enc.pendingBytes < this.#batchBytes) {
        const f = calls[callIdx++]!;
        enc.push(f.kind, f.type, f.id, f.payload, f.deadlineMs);
        this.onWritten?.(f.type, f.kind, 12 + f.payload.length);
      }
      if (callIdx > 0) calls.splice(0, callIdx);
      const onWritten = this.onWritten;
      while (!this.#eventsStopped && queue.length > 0 && enc.pendingBytes < this.#batchBytes) {
        const type = queue.peekType();
        const payload = queue.takePayload();
        const bulk = takeBulk(payload);
        if (bulk) {
          this.#pushBulk(type, bulk);
          continue;
        }
        if (payload.length > this.#peerMaxFrame) {
          queue.countOversized();
          continue;
        }
        enc.push(Kind.EVENT, type, 0, payload);
        if (onWritten) onWritten(type, Kind.EVENT, 12 + payload.length);
      }
      const frames = enc.pendingFrames;
      if (frames === 0) break;
      const bytes = enc.pendingBytes;
      const chunks = enc.take();
      if (chunks.length === 1) {
        socket.write(chunks[0]);
      } else {
        // cork + uncork makes node:net issue one writev for all chunks.
        socket.cork();
        for (const c of chunks) socket.write(c);
        socket.uncork();
      }
      this.framesOut += frames;
      this.bytesOut += bytes;
    }
    if ((queue.length > 0 && !this.#eventsStopped) || calls.length > 0) {
      if (socket.writableNeedDrain) this.#waitingDrain = true;
      else this.schedule();
    }
    this.onFlushed?.(calls.length);
  };
}

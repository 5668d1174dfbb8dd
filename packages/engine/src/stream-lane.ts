/**
 * The write lane of streams' OPEN and DATA frames (PROTOCOL.md §11). It shares the socket with
 * the connection's FrameWriter the same way the FrameWriter's own lanes do: it writes only while
 * the socket's buffer is below `socketHighWater`, in batches of whole frames (small payloads
 * copied behind their header, large ones as their own chunk of one writev, never copied), and
 * waits for 'drain' otherwise. JavaScript runs one write at a time, so frames of the two writers
 * never interleave inside a frame. What it holds is bounded by credit: a stream queues at most
 * its peer's window of DATA bytes.
 *
 * WINDOW goes on the urgent lane (credit may overtake anything). RESET comes here, behind the
 * stream's DATA already queued (a handler that yields and then fails delivers what it yielded);
 * a stream reset before its OPEN left is taken out of this lane instead
 * ({@link StreamLane.unqueue}), as an abandoned call's REQUEST is.
 */
import type { Duplex } from 'node:stream';
import { FrameEncoder, type Kind } from '@vsock-rpc/wire';
import { bulkLength, type BulkPayload } from './bulk-events.js';
import type { ConnectionCore } from './connection-core.js';

const EMPTY = Buffer.alloc(0);

interface LaneFrame {
  readonly kind: Kind;
  readonly type: number;
  readonly id: number;
  readonly payload: Buffer;
  readonly deadlineMs: number | undefined;
  readonly flags: number;
  /** A DATA message split for a BODY frame (PROTOCOL.md §12); `payload` is then empty. */
  readonly bulk?: BulkPayload | undefined;
}

/** Stream frames waiting for the socket. */
export class StreamLane {
  readonly #core: ConnectionCore;
  readonly #socket: Duplex;
  readonly #encoder: FrameEncoder;
  readonly #highWater: number;
  readonly #batchBytes: number;
  #frames: LaneFrame[] = [];
  #head = 0;
  #scheduled = false;
  #waitingDrain = false;
  /** Bytes of payload queued here. */
  queuedBytes = 0;

  constructor(core: ConnectionCore, options: { inlineLimit?: number; socketHighWater?: number; batchBytes?: number } = {}) {
    this.#core = core;
    this.#socket = core.socket;
    this.#encoder = new FrameEncoder({ inlineLimit: options.inlineLimit });
    this.#highWater = options.socketHighWater ?? 128 * 1024;
    this.#batchBytes = options.batchBytes ?? 64 * 1024;
    this.#socket.on('drain', () => {
      if (!this.#waitingDrain) return;
      this.#waitingDrain = false;
      this.#schedule();
    });
  }

  /** Frames waiting. */
  get length(): number {
    return this.#frames.length - this.#head;
  }

  /** Queues one frame; it leaves at the end of this tick, or when the socket has room. */
  push(kind: Kind, type: number, id: number, payload: Buffer, flags: number, deadlineMs?: number): void {
    this.#frames.push({ kind, type, id, payload, deadlineMs, flags });
    this.queuedBytes += payload.length;
    this.#schedule();
  }

  /** Queues one BODY frame: its value behind the header, the caller's buffer as a chunk of its own. */
  pushBulk(kind: Kind, type: number, id: number, bulk: BulkPayload, flags: number): void {
    this.#frames.push({ kind, type, id, payload: EMPTY, deadlineMs: undefined, flags, bulk });
    this.queuedBytes += bulkLength(bulk);
    this.#schedule();
  }

  /**
   * Takes every queued frame of stream `id` out; returns whether its OPEN (kind `openKind`) was
   * among them (then the peer never heard of the stream and needs no RESET). With `onlyIfOpen`,
   * nothing is taken out unless the OPEN is still here.
   */
  unqueue(id: number, openKind: Kind, onlyIfOpen = false): boolean {
    if (onlyIfOpen && !this.#frames.some((f, i) => i >= this.#head && f.id === id && f.kind === openKind)) return false;
    let hadOpen = false;
    const kept: LaneFrame[] = [];
    for (let i = this.#head; i < this.#frames.length; i++) {
      const f = this.#frames[i]!;
      if (f.id === id) {
        if (f.kind === openKind) hadOpen = true;
        this.queuedBytes -= f.bulk ? bulkLength(f.bulk) : f.payload.length;
      } else kept.push(f);
    }
    this.#frames = kept;
    this.#head = 0;
    return hadOpen;
  }

  /** Drops everything (teardown). */
  clear(): void {
    this.#frames = [];
    this.#head = 0;
    this.queuedBytes = 0;
  }

  #schedule(): void {
    if (this.#scheduled || this.#waitingDrain) return;
    this.#scheduled = true;
    process.nextTick(this.#flush);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const core = this.#core;
    const socket = this.#socket;
    if (core.state === 'closed' || socket.destroyed || !socket.writable) {
      this.clear();
      return;
    }
    const enc = this.#encoder;
    const writer = core.writer;
    const frames = this.#frames;
    for (let round = 0; round < 8 && this.#head < frames.length && socket.writableLength < this.#highWater; round++) {
      while (this.#head < frames.length && enc.pendingBytes < this.#batchBytes) {
        const f = frames[this.#head]!;
        frames[this.#head++] = undefined as unknown as LaneFrame;
        if (f.bulk) {
          const length = bulkLength(f.bulk);
          this.queuedBytes -= length;
          enc.pushBulk(f.kind, f.type, f.id, f.bulk.value, f.bulk.body, f.flags);
          writer.onWritten?.(f.type, f.kind, 12 + length);
          continue;
        }
        this.queuedBytes -= f.payload.length;
        enc.push(f.kind, f.type, f.id, f.payload, f.deadlineMs, f.flags);
        writer.onWritten?.(f.type, f.kind, 12 + (f.deadlineMs === undefined ? 0 : 4) + f.payload.length);
      }
      const n = enc.pendingFrames;
      const bytes = enc.pendingBytes;
      const chunks = enc.take();
      if (chunks.length === 1) socket.write(chunks[0]);
      else {
        socket.cork();
        for (const c of chunks) socket.write(c);
        socket.uncork();
      }
      writer.framesOut += n;
      writer.bytesOut += bytes;
    }
    if (this.#head >= frames.length) {
      this.#frames = [];
      this.#head = 0;
      return;
    }
    if (this.#head > 1024 && this.#head * 2 > frames.length) {
      this.#frames = frames.slice(this.#head);
      this.#head = 0;
    }
    if (socket.writableNeedDrain || socket.writableLength >= this.#highWater) this.#waitingDrain = true;
    else {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  };
}

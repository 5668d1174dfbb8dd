/**
 * The receive path's entry, and what guards it against a slow, silent, greedy or broken peer
 * (ARCHITECTURE.md, "A guest is hostile"): the socket's 'data' and 'end' listeners (each chunk
 * stamped, counted and decoded; the Connection dispatches the frames); the types the decoder
 * accepts in a header ({@link knownTypes}); the GOAWAY code for a stream the decoder refuses; the
 * bookkeeping after each socket chunk is decoded (frame progress, receive-deadlines.ts; the byte
 * and CPU budget, peer-budget.ts; the pause while our answers sit unread); and the watchdog, one
 * timer per open connection that sends the keepalive PING and closes with IDLE_TIMEOUT or
 * FRAME_TIMEOUT (PROTOCOL.md §5, §6).
 */
import { CONTROL_NAMES, FrameTooLargeError, Kind, ProtocolError, RESERVED_ID_MIN, VsockRpcError, type FrameDecoder, type Registry } from '@vsock-rpc/wire';
import type { ConnectionCore } from './connection-core.js';
import type { ControlLane } from './control-lane.js';
import { ConnectionClosedError } from './errors.js';
import type { GracefulClose } from './graceful-close.js';
import { helloTooLarge } from './handshake.js';
import { PeerBudget } from './peer-budget.js';
import { FrameProgress } from './receive-deadlines.js';

/** The receive-side limits of one connection. */
export class ReceiveGuard {
  readonly #core: ConnectionCore;
  readonly #decoder: FrameDecoder;
  readonly #control: ControlLane;
  readonly #closer: GracefulClose;
  readonly #progress: FrameProgress;
  readonly #budget: PeerBudget;
  readonly #maxUnreadBytes: number;
  #watchdog: NodeJS.Timeout | undefined;
  #bytesIn = 0;

  constructor(core: ConnectionCore, decoder: FrameDecoder, control: ControlLane, closer: GracefulClose) {
    this.#core = core;
    this.#decoder = decoder;
    this.#control = control;
    this.#closer = closer;
    this.#progress = new FrameProgress(core.options.frameDeadline);
    this.#budget = new PeerBudget(core.options.budget ?? {});
    this.#maxUnreadBytes = core.options.maxUnreadBytes ?? 1024 * 1024;
  }

  /** performance.now() of the last complete frame from the peer (or of the connection's start). */
  get lastFrameAt(): number {
    return this.#progress.lastFrameAt;
  }

  /** Bytes read from the socket. */
  get bytesIn(): number {
    return this.#bytesIn;
  }

  // ---- receive path ----

  /** The socket's 'data': stamps the chunk's arrival (the clock's T1′ and T2), counts it, decodes it. */
  readonly onData = (chunk: Buffer): void => {
    const startMs = performance.now();
    const core = this.#core;
    core.chunkAt = core.now();
    this.#bytesIn += chunk.length;
    core.metrics?.bytesIn(chunk.length);
    const framesBefore = core.framesIn;
    try {
      this.#decoder.push(chunk);
    } catch (err) {
      this.#decodeFailed(err);
      return;
    }
    if (core.state === 'closed') return;
    this.#afterChunk(chunk.length, core.framesIn - framesBefore, startMs);
  };

  /** The socket's 'end': a frame cut short is an error; otherwise our side ends once what we owe is written. */
  readonly onEnd = (): void => {
    const core = this.#core;
    try {
      this.#decoder.end();
    } catch (err) {
      core.fail(err as Error, true);
      return;
    }
    // The peer half-closed: finish our side once what we owe is written.
    if (core.state === 'handshake') {
      core.fail(new ConnectionClosedError(`peer ${core.describePeer()} closed during the handshake: is it a vsock-rpc endpoint of the same protocol?`), false);
      return;
    }
    void this.#closer.end(1000);
  };

  /**
   * After one socket chunk of `bytes` was decoded, `completed` frames finished in it, starting at
   * `startMs` (performance.now()): records progress, pauses reading while our answers pile up
   * unread, and charges the chunk to the peer's budget.
   */
  #afterChunk(bytes: number, completed: number, startMs: number): void {
    const endMs = performance.now();
    this.#progress.onChunk(completed, this.#decoder.pendingFrameBytes, endMs);
    if (this.#core.socket.writableLength > this.#maxUnreadBytes) this.#pauseUntilDrain();
    if (this.#budget.limited) this.#charge(bytes, endMs - startMs, endMs);
  }

  /** The decoder refused the stream: the peer gets the GOAWAY code PROTOCOL.md §6 names for it. */
  #decodeFailed(err: unknown): void {
    const core = this.#core;
    if (err instanceof FrameTooLargeError && core.state === 'handshake') {
      core.goawayAndFail('FRAME_TOO_LARGE', helloTooLarge(core.describePeer(), err.length));
    } else if (err instanceof ProtocolError) {
      core.goawayAndFail(err.code === 'FRAME_TOO_LARGE' ? 'FRAME_TOO_LARGE' : 'PROTOCOL_ERROR', err);
    } else {
      core.goawayAndFail('PROTOCOL_ERROR', err as Error);
    }
  }

  /** Answers piling up unread: read nothing more from this peer until it has read them. */
  #pauseUntilDrain(): void {
    const core = this.#core;
    if (core.isPaused('unread')) return;
    core.pause('unread');
    core.socket.once('drain', () => core.resume('unread'));
  }

  /** Charges one chunk to the peer's budget: slows it (pauses reading) or closes it when over. */
  #charge(bytes: number, cpuMs: number, now: number): void {
    const core = this.#core;
    const verdict = this.#budget.charge(bytes, cpuMs, now);
    if (verdict.action === 'ok') return;
    if (verdict.action === 'close') {
      core.metrics?.error('RESOURCE_EXHAUSTED');
      core.goawayAndFail(
        'RESOURCE_EXHAUSTED',
        new VsockRpcError(
          'RESOURCE_EXHAUSTED',
          `${core.describePeer()} was ${verdict.reason}: closing (raise the server's budget option if this peer is legitimately this busy)`,
        ),
      );
      return;
    }
    if (core.isPaused('budget')) return;
    core.metrics?.error('THROTTLED');
    core.pause('budget');
    setTimeout(() => core.resume('budget'), verdict.pauseMs).unref?.();
  }

  /**
   * Starts the watchdog (once the connection is open): sends PING after `keepaliveMs` without a
   * complete frame, closes with IDLE_TIMEOUT after `idleTimeoutMs` without one (a byte is not
   * progress), and with FRAME_TIMEOUT when the frame in progress is later than its size allows.
   */
  start(): void {
    const keepaliveMs = this.#core.options.keepaliveMs ?? 5000;
    const idleMs = this.#core.options.idleTimeoutMs ?? keepaliveMs * 3;
    const periods = [1000, keepaliveMs / 2, idleMs / 2].filter((ms) => ms > 0);
    this.#watchdog = setInterval(() => this.#watch(keepaliveMs, idleMs), Math.max(10, Math.min(...periods)));
    this.#watchdog.unref?.();
  }

  /** Stops the watchdog (teardown). */
  stop(): void {
    clearInterval(this.#watchdog);
  }

  #watch(keepaliveMs: number, idleMs: number): void {
    const core = this.#core;
    const now = performance.now();
    const pending = this.#decoder.pendingFrameBytes;
    const overdueMs = this.#progress.overdueMs(pending, now);
    if (overdueMs > 0) {
      core.goawayAndFail(
        'FRAME_TIMEOUT',
        new VsockRpcError(
          'FRAME_TIMEOUT',
          `a ${pending}-byte frame from ${core.describePeer()} was not complete within ${this.#progress.allowanceMs(pending)} ms: closing (a peer on a slow link needs a lower frameDeadline.minBytesPerSecond)`,
        ),
      );
      return;
    }
    if (this.#progress.inFrame) return; // a frame on time is progress
    const silentMs = now - this.#progress.lastFrameAt;
    if (idleMs > 0 && silentMs > idleMs) {
      core.goawayAndFail(
        'IDLE_TIMEOUT',
        new VsockRpcError(
          'IDLE_TIMEOUT',
          `nothing heard from ${core.describePeer()} for ${Math.round(silentMs)} ms (no complete frame: bytes alone are not progress): closing (raise idleTimeoutMs if the peer is just slow)`,
        ),
      );
      return;
    }
    if (keepaliveMs > 0 && silentMs >= keepaliveMs && this.#control.pingsInFlight === 0) {
      this.#control.ping(Math.max(keepaliveMs, 1000)).catch(() => {});
    }
  }
}

/**
 * The decoder's check of a header's type, before any payload is taken (PROTOCOL.md §2): control
 * types of §4, and the EVENT types of `registry`. Made once per connection.
 */
export function knownTypes(registry: Registry): (kind: Kind, type: number) => boolean {
  return (kind, type) => {
    if (kind === Kind.CONTROL) return CONTROL_NAMES[type] !== undefined;
    if (kind === Kind.EVENT) return type < RESERVED_ID_MIN && registry.messageById(type) !== undefined;
    // Stream frames for an unknown method are answered with RESET UNKNOWN_METHOD (OPEN) or
    // ignored (the rest), like calls (PROTOCOL.md §11).
    // An unknown (or reserved) method in a REQUEST is answered with ERROR UNKNOWN_METHOD, and a
    // RESPONSE or ERROR nobody waits for is ignored, whatever its type (PROTOCOL.md §6).
    return true;
  };
}

/**
 * What the parts of a connection share, and all they see of it. A {@link Connection} is split
 * along its lines: the handshake (handshake.ts), calls in each direction (outgoing-calls.ts,
 * incoming-calls.ts), the control lane (control-lane.ts), the receive guard (receive-guard.ts),
 * event dispatch (event-dispatch.ts), streams (streams.ts) and graceful close (graceful-close.ts).
 * None of them holds the Connection: they get this {@link ConnectionCore}, whose state only the
 * Connection moves (its fields are read-only here, but for `chunkAt`, which the receive guard
 * stamps as each chunk arrives).
 *
 * {@link SharedCore} is its implementation, owned by the Connection. It also holds what every
 * part needs the same way: the read pauses (reasons stack) and the connection's log.
 */
import type { Duplex } from 'node:stream';
import { Codec, ControlType, DEFAULT_MAX_FRAME, Kind, encodeErrorPayload, escapeText } from '@vsock-rpc/wire';
import { formatAddress } from '@vsock-rpc/vsock';
import type { ConnectionState } from './connection.js';
import type { ConnectionOptions } from './connection-options.js';
import type { GoawayError } from './errors.js';
import type { FrameWriter } from './frame-writer.js';
import { stderrLogger, type Logger } from './logger.js';
import type { EngineMetrics } from './metrics.js';
import type { PeerContext } from './peer.js';

/** The connection as its parts see it. */
export interface ConnectionCore {
  readonly options: ConnectionOptions;
  readonly codec: Codec;
  readonly writer: FrameWriter;
  readonly socket: Duplex;
  readonly metrics: EngineMetrics | undefined;
  readonly state: ConnectionState;
  /** The peer, once its HELLO is accepted. */
  readonly peer: PeerContext | undefined;
  /** The largest payload the peer accepts (its HELLO's maxFrame). */
  readonly peerMaxFrame: number;
  /**
   * The monotonic time at which the socket chunk being decoded arrived: T1′ of clock requests
   * and T2 of clock responses are taken from it, the earliest point of our receive path
   * (written by the receive guard's `onData`, read by the rest).
   */
  chunkAt: bigint;
  /** Complete frames received (the Connection counts each as it dispatches it). */
  readonly framesIn: number;
  readonly closeError: Error | undefined;
  /** The peer's GOAWAY, once received. */
  readonly goawayReceived: GoawayError | undefined;
  /** This side's monotonic clock in ns (skewed in tests). */
  readonly now: () => bigint;
  /** Tells the peer why with GOAWAY `code`, then closes the connection with `err`. */
  goawayAndFail(code: string, err: Error): void;
  /** Closes the connection with `err` at once (`endGracefully`: what is written, a GOAWAY say, goes out first). */
  fail(err: Error, endGracefully: boolean): void;
  /** Stops reading from the socket for `reason` (reasons stack; reading resumes when all are gone). */
  pause(reason: string): void;
  resume(reason: string): void;
  isPaused(reason: string): boolean;
  /** One log line per kind of problem per 10 s: a flood of bad frames must not flood the log. */
  warnOnce(kind: string, message: string): void;
  /** `name@address` once the peer is known, its address before. */
  describePeer(): string;
}

/** The Connection's {@link ConnectionCore}: the shared state it moves, the pauses and the log. */
export class SharedCore implements ConnectionCore {
  readonly options: ConnectionOptions;
  readonly codec: Codec;
  readonly writer: FrameWriter;
  readonly socket: Duplex;
  readonly metrics: EngineMetrics | undefined;
  readonly now: () => bigint;
  state: ConnectionState = 'handshake';
  peer: PeerContext | undefined = undefined;
  peerMaxFrame = DEFAULT_MAX_FRAME;
  chunkAt = 0n;
  framesIn = 0;
  closeError: Error | undefined = undefined;
  goawayReceived: GoawayError | undefined = undefined;
  readonly #fail: (err: Error, endGracefully: boolean) => void;
  readonly #logger: Logger;
  readonly #pauseReasons = new Set<string>();
  readonly #warned = new Map<string, number>();

  /** `fail` is the Connection's: closes at once with `err`, `endGracefully` lets a GOAWAY out first. */
  constructor(socket: Duplex, options: ConnectionOptions, writer: FrameWriter, fail: (err: Error, endGracefully: boolean) => void) {
    this.socket = socket;
    this.options = options;
    this.codec = new Codec(options.registry);
    this.writer = writer;
    this.metrics = options.metrics;
    this.now = options.now ?? process.hrtime.bigint;
    this.#fail = fail;
    this.#logger = options.logger === null ? { warn: () => {} } : (options.logger ?? stderrLogger);
  }

  goawayAndFail(code: string, err: Error): void {
    if (this.state === 'closed') return;
    try {
      this.writer.writeUrgent(Kind.CONTROL, ControlType.GOAWAY, 0, encodeErrorPayload({ code, message: err.message }));
    } catch {
      /* the socket may already be gone */
    }
    this.#fail(err, true);
  }

  fail(err: Error, endGracefully: boolean): void {
    this.#fail(err, endGracefully);
  }

  pause(reason: string): void {
    if (this.#pauseReasons.size === 0) this.socket.pause();
    this.#pauseReasons.add(reason);
  }

  resume(reason: string): void {
    if (!this.#pauseReasons.delete(reason)) return;
    if (this.#pauseReasons.size === 0 && !this.socket.destroyed) this.socket.resume();
  }

  isPaused(reason: string): boolean {
    return this.#pauseReasons.has(reason);
  }

  /** Why reading is paused, if it is (ConnectionStats.readPaused). */
  get pauseReasons(): string[] {
    return [...this.#pauseReasons];
  }

  warnOnce(kind: string, message: string): void {
    const now = performance.now();
    const last = this.#warned.get(kind);
    if (last !== undefined && now - last < 10_000) return;
    this.#warned.set(kind, now);
    this.log(message);
  }

  /**
   * Every line this connection logs passes here: it quotes what the peer chose (its HELLO name,
   * GOAWAY messages, schema paths), and a newline or an ANSI escape in those must not forge a
   * log line or reach the operator's terminal raw.
   */
  log(message: string): void {
    this.#logger.warn(escapeText(message, 2048));
  }

  describePeer(): string {
    const address = formatAddress(this.options.peerInfo.address);
    return this.peer ? `${this.peer.name}@${address}` : address;
  }
}

/**
 * The public shapes of a {@link Connection}: its options, its counters, the options of one call,
 * one clock sample and an event as pull-style consumers receive it. Types only: they live apart
 * so that every part of a connection (connection-core.ts and the files it names) can use them
 * without importing the class. connection.ts re-exports them.
 */
import type { Registry } from '@vsock-rpc/wire';
import type { PeerInfo } from '@vsock-rpc/vsock';
import type { EventQueue, EventQueueOptions } from './event-queue.js';
import type { Inbox } from './inbox.js';
import type { Logger } from './logger.js';
import type { EngineMetrics } from './metrics.js';
import type { PeerContext } from './peer.js';
import type { PeerBudgetOptions } from './peer-budget.js';
import type { FrameDeadlineOptions } from './receive-deadlines.js';
import type { Router } from './router.js';

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
  /** The engine's `timeoutScale` (for messages: a limit that passed says how to raise it). */
  readonly timeoutScale?: number;
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
  /** Optional features announced in HELLO (default 'clock', 'keepalive', 'streams', 'bulk'). */
  readonly features?: readonly string[];
  /**
   * Whether this side dialed the connection (default true): it then numbers its streams odd,
   * the accepting side even (PROTOCOL.md §11). A ServerEngine passes false.
   */
  readonly initiator?: boolean;
  /** Credit in bytes granted to the peer per stream, announced in HELLO (default 256 KiB, PROTOCOL.md §11). */
  readonly streamWindow?: number;
  /** Most streams the peer may have open that it opened, announced in HELLO (default 1024); more get RESET RESOURCE_EXHAUSTED. */
  readonly maxStreams?: number;
  /**
   * Most bytes of stream messages this connection holds received and not yet read by their
   * readers, over all its streams (default 16 MiB). Credit bounds each stream to `streamWindow`,
   * but `maxStreams` streams of it would be 256 MiB: a DATA that would take the connection past
   * this bound resets its own stream with RESOURCE_EXHAUSTED instead; the other streams, events
   * and calls go on.
   */
  readonly maxStreamBufferBytes?: number;
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
  /** Streams open on this connection, both ways. */
  readonly streams: number;
}

/**
 * A bounded batch channel between worker threads. Threads exchange batches, never one
 * postMessage per event (a postMessage costs microseconds: per event it would cap the demo at a
 * few hundred thousand events/s of pure overhead). The bound is credit-based: the sender counts
 * items it posted and the receiver has not acknowledged yet; a batch that would exceed the bound
 * is dropped whole and counted, so a stalled receiver costs bounded memory, never the sender's
 * progress.
 */
import type { MessagePort } from 'node:worker_threads';
import type { FtraceStats, TraceFields } from '@vsock-rpc/trace';

/** Something that can post: a MessagePort or a Worker. */
export interface Postable {
  postMessage(value: unknown, transferList?: readonly (ArrayBuffer | MessagePort)[]): void;
}

/** Message the receiver sends back for every batch it has processed. */
export interface AckMessage {
  readonly type: 'ack';
  readonly n: number;
}

/** Counters of a {@link BatchSender}. */
export interface ChannelStats {
  /** Items posted. */
  sent: number;
  /** Items dropped because the receiver was too far behind. */
  dropped: number;
  /** Items posted and not yet acknowledged. */
  inFlight: number;
}

/** The sending end. Call {@link BatchSender.ack} when the receiver's {@link AckMessage} arrives. */
export class BatchSender {
  readonly #port: Postable;
  readonly #maxInFlight: number;
  #inFlight = 0;
  #sent = 0;
  #dropped = 0;

  /** @param maxInFlight - bound on unacknowledged items (default 200 000). */
  constructor(port: Postable, maxInFlight = 200_000) {
    this.#port = port;
    this.#maxInFlight = maxInFlight;
  }

  /**
   * Post `message` carrying `count` items, unless that would exceed the bound.
   * @returns whether it was posted (else its items are counted as dropped).
   */
  send(message: object, count: number, transfer?: readonly ArrayBuffer[]): boolean {
    if (count > 0 && this.#inFlight + count > this.#maxInFlight) {
      this.#dropped += count;
      return false;
    }
    this.#inFlight += count;
    this.#sent += count;
    this.#port.postMessage(message, transfer);
    return true;
  }

  /** The receiver processed `n` items. */
  ack(n: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - n);
  }

  /** Counters. */
  stats(): ChannelStats {
    return { sent: this.#sent, dropped: this.#dropped, inFlight: this.#inFlight };
  }
}

/** Acknowledge `n` processed items to the sender on `port`. */
export function ack(port: Postable, n: number): void {
  if (n > 0) port.postMessage({ type: 'ack', n } satisfies AckMessage);
}

/**
 * visualize → connect: acknowledgements due to guests (cumulative `seq` per source; see
 * `Timeline.takeAcks`). Connect sends each as a `traceAck` to that source's connection.
 */
export interface TraceAcksMessage {
  readonly type: 'traceAcks';
  readonly acks: readonly { readonly source: string; readonly seq: number }[];
}

/**
 * A hook batch: events as parallel arrays. The timestamps travel as a transferable
 * BigInt64Array (moved, not copied), the texts as a plain array. The random hook sends only
 * `ts` and `texts` (its fast path: every event is a `message` with a text); the ftrace hook
 * also sends `kinds` and `fields`, and `texts[i]` is undefined for an event without text.
 */
export interface HookBatch {
  readonly type: 'hook';
  /** Timestamps on the producer's clock, ns. */
  readonly ts: BigInt64Array;
  readonly texts: (string | undefined)[];
  /** Kind of each event (absent: every event is a `message`). */
  readonly kinds?: string[];
  /** Fields of each event (absent: none has fields). */
  readonly fields?: (TraceFields | undefined)[];
  /** Producer clock at posting: every later event has ts ≥ this (a watermark). */
  readonly watermark: bigint;
  /** The producer has stopped: this is its last batch. */
  readonly done: boolean;
}

/** What a hook thread reports when it stops (`{ type: 'stopped', ... }` on parentPort). */
export interface HookStopped {
  readonly type: 'stopped';
  /** Events produced (random events generated, or ftrace events read). */
  readonly generated: number;
  /** Events dropped on the channel because the consumer was too far behind. */
  readonly dropped: number;
  /** ftrace hook: the reader's final counters (kernel losses per CPU). */
  readonly ftrace?: FtraceStats;
  /** ftrace hook: events committed to the kernel buffer after the watermark had passed them (sent out of order). */
  readonly reorderedLate?: number;
  /** ftrace hook with `waitForStart`: events read and discarded before the start (a client: before it was connected). */
  readonly beforeStart?: number;
}

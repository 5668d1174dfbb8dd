/**
 * Shared machinery of the exporters: a node `Writable` sink with bounded buffering,
 * backpressure signalling, error capture and orderly close.
 *
 * @packageDocumentation
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { TraceEvent } from '../schema.js';
import { exportError, invalidArgument } from '../errors.js';

/**
 * An exporter: receives merged events in batches, writes them somewhere.
 */
export interface TraceExporter {
  /**
   * Format and write a batch (in timeline order). Never blocks and never buffers without
   * bound: if the output is too far behind, the whole batch is dropped and counted.
   *
   * @returns `false` when the output asks the producer to slow down (like
   *   `Writable.write`); wait for {@link TraceExporter.drained} before writing more if you can.
   */
  write(events: readonly TraceEvent[]): boolean;
  /** Resolves when the output has drained (immediately if it is not backed up). */
  drained(): Promise<void>;
  /**
   * Finish the output (write any trailer, end the stream if the exporter owns it) and resolve
   * once everything is flushed. Idempotent. Rejects with the stream's error if it failed.
   * Writes after close are dropped (counted).
   */
  close(): Promise<void>;
  /** Counters. */
  stats(): ExporterStats;
}

/** Counters of an exporter. */
export interface ExporterStats {
  /** Events handed to the output stream. */
  written: number;
  /** Events dropped: buffer bound exceeded, stream failed, or written after close. */
  dropped: number;
  /** Characters handed to the output stream (≈ bytes for ASCII output). */
  chars: number;
  /** The stream's error, if it failed. */
  error: Error | undefined;
}

/** Options common to every exporter. */
export interface StreamExporterOptions {
  /**
   * Where to write: a `Writable`, or a file path (created/truncated; the exporter then owns
   * the stream).
   */
  output: Writable | string;
  /**
   * End the stream on close. Default: `true` for a path, `false` for a given stream (so that
   * `process.stdout` is not ended by accident).
   */
  end?: boolean;
  /**
   * Bound on data waiting in the stream's buffer, in characters (approximately bytes). A batch
   * that would exceed it is dropped whole. Default 8 MiB.
   */
  maxBufferedBytes?: number;
}

const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * Base class: subclasses format a batch into one string chunk and call {@link tryWrite}.
 * One chunk per batch keeps per-event overhead to string building (one `stream.write` per
 * batch, not per event).
 */
export abstract class StreamExporter implements TraceExporter {
  /** The output stream. */
  protected readonly stream: Writable;
  readonly #endOnClose: boolean;
  readonly #maxBufferedBytes: number;
  #nWritten = 0;
  #nDropped = 0;
  #nChars = 0;
  #error: Error | undefined;
  #closing: Promise<void> | undefined;
  /** Chunks handed to the stream, and chunks it reported written (for {@link written}). */
  #chunksIssued = 0;
  #chunksDone = 0;
  readonly #writtenWaiters: { upTo: number; resolve: () => void }[] = [];
  readonly #onChunkDone = (): void => {
    this.#chunksDone++;
    while (this.#writtenWaiters.length > 0 && this.#writtenWaiters[0]!.upTo <= this.#chunksDone) this.#writtenWaiters.shift()!.resolve();
  };
  readonly #onError = (err: Error): void => {
    // Keep the first error; later ones are usually consequences of it.
    this.#error ??= exportError(err);
    this.#releaseWritten();
  };

  protected constructor(options: StreamExporterOptions) {
    const owned = typeof options.output === 'string';
    this.stream = typeof options.output === 'string' ? createWriteStream(options.output) : options.output;
    this.#endOnClose = options.end ?? owned;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    if (!(this.#maxBufferedBytes > 0)) {
      throw invalidArgument(`maxBufferedBytes must be > 0, got ${this.#maxBufferedBytes}`);
    }
    // A listener also keeps a failing stream from crashing the process with an unhandled
    // 'error'; the error is reported by close() and stats().
    this.stream.on('error', this.#onError);
    // A failed or closed stream never calls back: release whoever waits in written().
    this.stream.once('close', this.#releaseWritten);
  }

  readonly #releaseWritten = (): void => {
    for (const w of this.#writtenWaiters.splice(0)) w.resolve();
  };

  /** Format and write a batch. See {@link TraceExporter.write}. */
  abstract write(events: readonly TraceEvent[]): boolean;

  /** Whether {@link close} has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Hand `chunk` (holding `count` events) to the stream unless that would exceed the bound, the
   * stream failed, or the exporter is closed; then the events are counted as dropped.
   *
   * @param force - write regardless of the bound (headers/trailers that keep the file valid).
   * @returns whether the chunk was written.
   */
  protected tryWrite(chunk: string, count: number, force = false): boolean {
    const s = this.stream;
    if (
      this.#error !== undefined ||
      s.destroyed ||
      s.writableEnded ||
      (!force && (this.#closing !== undefined || s.writableLength + chunk.length > this.#maxBufferedBytes))
    ) {
      this.#nDropped += count;
      return false;
    }
    if (chunk.length > 0) {
      this.#chunksIssued++;
      s.write(chunk, this.#onChunkDone);
    }
    this.#nWritten += count;
    this.#nChars += chunk.length;
    return true;
  }

  /** Count events dropped without calling {@link tryWrite}. */
  protected countDropped(count: number): void {
    this.#nDropped += count;
  }

  /** Whether the producer should slow down. */
  protected get backedUp(): boolean {
    return this.stream.writableNeedDrain;
  }

  /** Trailer written on close (e.g. closing a JSON array). Default: none. */
  protected trailer(): string {
    return '';
  }

  /** {@inheritDoc TraceExporter.drained} */
  /**
   * Resolves once every chunk written so far has left this process (the stream's write
   * callbacks ran: for a file, the data is in the OS and survives the process being killed), or
   * the stream failed. envtest acknowledges guest events only after this.
   */
  written(): Promise<void> {
    const upTo = this.#chunksIssued;
    if (this.#chunksDone >= upTo || this.#error !== undefined || this.stream.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => this.#writtenWaiters.push({ upTo, resolve }));
  }

  drained(): Promise<void> {
    const s = this.stream;
    if (!s.writableNeedDrain || this.#error !== undefined || s.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        s.off('drain', done);
        s.off('error', done);
        s.off('close', done);
        resolve();
      };
      s.on('drain', done);
      s.on('error', done);
      s.on('close', done);
    });
  }

  /** {@inheritDoc TraceExporter.close} */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async #doClose(): Promise<void> {
    const s = this.stream;
    const tail = this.trailer();
    if (tail.length > 0) this.tryWrite(tail, 0, true);
    try {
      if (this.#error === undefined && !s.destroyed) {
        if (this.#endOnClose) {
          if (!s.writableEnded) s.end();
          await finished(s);
        } else {
          await this.drained();
        }
      }
    } catch (err) {
      this.#error ??= exportError(err);
    } finally {
      // Not our stream to listen on any more (process.stdout outlives us).
      if (!this.#endOnClose) s.off('error', this.#onError);
    }
    if (this.#error !== undefined) throw this.#error;
  }

  /** {@inheritDoc TraceExporter.stats} */
  stats(): ExporterStats {
    return { written: this.#nWritten, dropped: this.#nDropped, chars: this.#nChars, error: this.#error };
  }
}

/**
 * Render a bigint-bearing value as JSON with bigints as decimal strings (JSON has no int64;
 * a JSON number would lose precision above 2^53 in most parsers).
 */
export function jsonWithBigints(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

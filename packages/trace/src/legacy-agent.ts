/**
 * The guest side of the legacy wire: {@link LegacyClient} speaks to the C++ envtest's `server`
 * binary (or a {@link LegacyServer}) as its `client` does: messageexp frames, and now and then a
 * clock request whose one-sample Δt is subtracted from every timestamp sent. Unlike the
 * original it writes no uninitialised byte, syncs before its first message (not only after a
 * minute of uptime), checks the reply's type, and never reads anything it did not ask for.
 * {@link LegacyTraceAgent} is the same behind the trace agent's `emit` interface.
 *
 * @packageDocumentation
 */
import {
  LEGACY_CLOCK_INTERVAL_NS,
  LEGACY_TYPE_TIMESTAMPS,
  LegacyFrameReader,
  LegacyWireError,
  encodeClockRequestFrame,
  encodeMessageexp,
  encodeMessageexpFrame,
  legacyClockDue,
  legacyClockErrorBound,
  legacyClockOffset,
  toLegacyServerTime,
  type LegacyClockSample,
} from '@vsock-rpc/legacy';
import { dial, formatAddress, toAddress, type TransportAddress, type TransportSocket } from '@vsock-rpc/vsock';
import { TraceError } from './errors.js';
import type { AgentEvent, TraceAgentStats } from './agent.js';
import type { TraceClockReport } from './registry.js';

/** One clock exchange's outcome. */
export interface LegacyClockResult extends LegacyClockSample {
  /** Δt = client − server, as the original computes it. */
  offsetNs: bigint;
  /** Half the round trip without the server's time: how far off Δt can be. */
  errorBoundNs: bigint;
}

/** Options of {@link LegacyClient.connect}. */
export interface LegacyClientOptions {
  /** Give up connecting after this many ms. */
  timeoutMs?: number;
  /** Abort the connection attempt. */
  signal?: AbortSignal;
  /** Our clock, ns (default `process.hrtime.bigint`). */
  now?: () => bigint;
}

/**
 * One connection to a legacy server. {@link send} writes one messageexp frame per call (header
 * and body in one write, every byte initialised); {@link sync} runs one clock exchange and
 * keeps its Δt in {@link offsetNs}. A frame from the server while no exchange is pending is a
 * protocol error (`LEGACY_UNEXPECTED_FRAME`) and closes the connection.
 */
export class LegacyClient {
  /** The server's address. */
  readonly address: TransportAddress;
  readonly #socket: TransportSocket;
  readonly #reader = new LegacyFrameReader();
  readonly #now: () => bigint;
  #pending: { t1: bigint; resolve: (r: LegacyClockResult) => void; reject: (e: Error) => void } | undefined;
  #offset = 0n;
  #last: (LegacyClockResult & { atNs: bigint; wallTimeMs: number }) | undefined;
  #error: Error | undefined;
  #closed = false;

  private constructor(socket: TransportSocket, address: TransportAddress, now: () => bigint) {
    this.#socket = socket;
    this.address = address;
    this.#now = now;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new TraceError('ERR_LEGACY_CLOSED', `the legacy server at ${formatAddress(address)} closed the connection`)));
  }

  /**
   * Connect to a legacy server (the original listens on `vsock://2:47916`).
   * @throws the transport's dial errors (refused, timeout, aborted).
   */
  static async connect(address: TransportAddress | string, options: LegacyClientOptions = {}): Promise<LegacyClient> {
    const a = toAddress(address);
    const socket = await dial(a, {
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    socket.setNoDelay?.(true);
    return new LegacyClient(socket, a, options.now ?? process.hrtime.bigint);
  }

  /** Our clock, ns. */
  now(): bigint {
    return this.#now();
  }

  /** Δt of the last exchange (0 before the first): client clock minus server clock. */
  get offsetNs(): bigint {
    return this.#offset;
  }

  /** The last exchange, with when it happened (our clock and wall time), or undefined. */
  get lastSync(): (LegacyClockResult & { atNs: bigint; wallTimeMs: number }) | undefined {
    return this.#last;
  }

  /** Whether the connection is usable. */
  get connected(): boolean {
    return this.#error === undefined && !this.#closed;
  }

  /** The error that ended the connection, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /**
   * Send one event; `ts` is on our clock and goes out as `ts − Δt` (the server's clock).
   * @returns `false` when the socket's buffer is full (wait for {@link drained}).
   * @throws {@link LegacyWireError} when the text does not fit (1..65 UTF-8 bytes), or the
   *   connection's error once it has failed.
   */
  send(ts: bigint, text: string): boolean {
    if (this.#error) throw this.#error;
    return this.#socket.write(encodeMessageexpFrame({ timestamp: toLegacyServerTime(ts, this.#offset), text }));
  }

  /** Resolves when the socket's buffer has room again (at once if it has). */
  drained(): Promise<void> {
    if (!this.#socket.writableNeedDrain || this.#error) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
  }

  /**
   * One clock exchange: T1, request, reply {T1′, T2′}, T2; Δt becomes the new offset.
   * @throws a {@link TraceError} `ERR_LEGACY_NO_CLOCK_SYNC` after `timeoutMs`, or the connection's error.
   */
  sync(timeoutMs = 10_000): Promise<LegacyClockResult> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#pending) return Promise.reject(new TraceError('ERR_INVALID_STATE', 'a legacy clock exchange is already running'));
    return new Promise<LegacyClockResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = undefined;
        reject(new TraceError('ERR_LEGACY_NO_CLOCK_SYNC', `no clock reply from ${formatAddress(this.address)} within ${timeoutMs} ms`));
        // A reply that comes later would be unsolicited: nothing can be trusted on this stream.
        this.#socket.destroy();
      }, timeoutMs);
      this.#pending = {
        t1: this.#now(),
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#socket.write(encodeClockRequestFrame());
    });
  }

  /** End the connection (what was written is still delivered), resolving once closed. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const s = this.#socket;
    if (s.destroyed) return;
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    s.destroy();
  }

  #onData(chunk: Buffer): void {
    let msgs;
    try {
      msgs = this.#reader.push(chunk);
    } catch (err) {
      this.#fail(err as Error);
      this.#socket.destroy();
      return;
    }
    for (const m of msgs) {
      const p = this.#pending;
      if (m.type !== LEGACY_TYPE_TIMESTAMPS || p === undefined) {
        const err = new LegacyWireError('LEGACY_UNEXPECTED_FRAME', `unexpected type-${m.type} frame from the legacy server (no clock request pending)`);
        this.#fail(err);
        this.#socket.destroy();
        return;
      }
      const t2 = this.#now();
      this.#pending = undefined;
      const sample: LegacyClockSample = { t1: p.t1, t1p: m.recvtime, t2p: m.sendtime, t2 };
      const r: LegacyClockResult = { ...sample, offsetNs: legacyClockOffset(sample), errorBoundNs: legacyClockErrorBound(sample) };
      this.#offset = r.offsetNs;
      this.#last = { ...r, atNs: p.t1, wallTimeMs: Date.now() };
      p.resolve(r);
    }
  }

  #fail(err: Error): void {
    if (this.#error === undefined && !this.#closed) this.#error = err;
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(this.#error ?? err);
  }
}

/** Options of a legacy trace agent: `createTraceAgent({ wire: 'legacy', connect, name })`. */
export interface LegacyTraceAgentOptions {
  /** Choose the legacy wire (the C++ envtest's). */
  wire: 'legacy';
  /** The legacy server: the original listens on 'vsock://2:47916'. */
  connect: TransportAddress | string;
  /** Source name, for our own stats only: the legacy wire carries no name (the server names a peer by its address). */
  name: string;
  /** Events waiting to be written (default 65 536); more are dropped and counted. */
  maxBuffered?: number;
  /** How often buffered events are written, ms (default 10). */
  batchIntervalMs?: number;
  /** Clock exchange interval, ns (default 60 s, as the original); the first runs before the first message. */
  clockIntervalNs?: bigint;
  /** Longest wait for a clock reply, ms (default 10 000). */
  clockTimeoutMs?: number;
  /** Give up connecting after this many ms (default: the transport's). */
  connectTimeoutMs?: number;
  /** Abort the connection attempt. */
  signal?: AbortSignal;
  /** Shift our clock by this many ns (to see the correction at work on one machine). */
  clockSkewNs?: bigint;
}

/**
 * A tracing agent on the legacy wire. `emit` never blocks (a bounded buffer; overflow dropped
 * and counted). A timer writes the buffer, one messageexp frame per event with `ts − Δt`,
 * running a clock exchange first when one is due. Texts must be 1..65 UTF-8 bytes (the wire's
 * bound); others are refused at `emit` and counted as `invalid`.
 *
 * The legacy wire has no acknowledgements: in {@link stats}, `acknowledged` counts events
 * written to the socket (and `unconfirmed` stays 0); the connection is not re-established once
 * lost (the original server accepts one connection per process), later events are dropped.
 *
 * Create it with `createTraceAgent({ wire: 'legacy', ... })`.
 */
export class LegacyTraceAgent {
  /** The connection underneath. */
  readonly client: LegacyClient;
  /** The source name (ours only: it does not travel). */
  readonly name: string;
  readonly wire = 'legacy' as const;
  readonly #buf: { ts: bigint; text: string }[] = [];
  readonly #maxBuffered: number;
  readonly #intervalNs: bigint;
  readonly #clockTimeoutMs: number;
  readonly #timer: NodeJS.Timeout;
  #sending: Promise<void> | undefined;
  #closed = false;
  #emitted = 0;
  #sent = 0;
  #dropped = 0;
  #invalid = 0;
  #syncs = 0;

  /** @internal Use `createTraceAgent({ wire: 'legacy', ... })`. */
  constructor(client: LegacyClient, options: LegacyTraceAgentOptions) {
    this.client = client;
    this.name = options.name;
    this.#maxBuffered = Math.max(1, options.maxBuffered ?? 65_536);
    this.#intervalNs = options.clockIntervalNs ?? LEGACY_CLOCK_INTERVAL_NS;
    this.#clockTimeoutMs = options.clockTimeoutMs ?? 10_000;
    this.#timer = setInterval(() => void this.#send().catch(() => {}), Math.max(1, options.batchIntervalMs ?? 10));
    this.#timer.unref();
  }

  /** Our clock (with any skew), ns. */
  now(): bigint {
    return this.client.now();
  }

  /** Queue one event (`ts` on our clock; default now). Returns false when dropped (counted). */
  emit(event: AgentEvent = {}): boolean {
    this.#emitted++;
    if (this.#closed || !this.client.connected || this.#buf.length >= this.#maxBuffered) {
      this.#dropped++;
      return false;
    }
    const text = event.text ?? '';
    try {
      encodeMessageexp({ timestamp: 0n, text });
    } catch {
      this.#invalid++;
      this.#dropped++;
      return false;
    }
    this.#buf.push({ ts: event.ts ?? this.client.now(), text });
    return true;
  }

  /** Accepted for interface parity with the native agent: the legacy wire has no watermark. */
  advance(_localTs: bigint): void {}

  /** Write everything buffered (syncing first when due) and resolve once the socket took it. */
  async flush(): Promise<void> {
    for (;;) {
      await this.#send();
      if (this.#buf.length === 0) break;
    }
    if (this.client.error) throw this.client.error;
  }

  /** Flush (bounded by `timeoutMs`), then end the connection. What was never written is dropped and counted. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    const end = performance.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush().catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.#closed = true;
    clearInterval(this.#timer);
    this.#dropped += this.#buf.length;
    this.#buf.length = 0;
    await this.client.close(Math.max(0, end - performance.now()));
  }

  /** Counters, in the native agent's shape (see the class comment for `acknowledged`). */
  stats(): TraceAgentStats & { clockSyncs: number } {
    return {
      emitted: this.#emitted,
      sent: this.#sent,
      resent: 0,
      acknowledged: this.#sent,
      dropped: this.#dropped,
      invalid: this.#invalid,
      unconfirmed: 0,
      unacked: 0,
      clamped: 0,
      batches: this.#sent,
      heartbeats: 0,
      buffered: this.#buf.length,
      clock: this.#clockReport(),
      connected: this.client.connected,
      clockSyncs: this.#syncs,
    };
  }

  /** Run a clock exchange now (also what `createTraceAgent` does before resolving). */
  async syncClock(): Promise<LegacyClockResult> {
    const r = await this.client.sync(this.#clockTimeoutMs);
    this.#syncs++;
    return r;
  }

  #clockReport(): TraceClockReport | undefined {
    const s = this.client.lastSync;
    if (s === undefined) return undefined;
    return { offsetNs: s.offsetNs, errorBoundNs: s.errorBoundNs, driftPpm: 0, lastSyncAgeMs: Date.now() - s.wallTimeMs };
  }

  #send(): Promise<void> {
    if (this.#sending) return this.#sending;
    const run = (async () => {
      while (this.#buf.length > 0 && this.client.connected) {
        // As the original: a due exchange runs right before the message that finds it due.
        if (legacyClockDue(this.client.now(), this.client.lastSync?.atNs, this.#intervalNs)) await this.syncClock();
        const e = this.#buf.shift()!;
        let room: boolean;
        try {
          room = this.client.send(e.ts, e.text);
        } catch (err) {
          this.#dropped++;
          throw err;
        }
        this.#sent++;
        if (!room) await this.client.drained();
      }
    })();
    this.#sending = run;
    void run
      .finally(() => {
        if (this.#sending === run) this.#sending = undefined;
      })
      .catch(() => {});
    return run;
  }
}

/**
 * Connect a legacy trace agent and run the first clock exchange (so the first event already
 * goes out in the server's clock).
 * @throws the transport's dial errors, or `ERR_LEGACY_NO_CLOCK_SYNC`.
 */
export async function createLegacyTraceAgent(options: LegacyTraceAgentOptions): Promise<LegacyTraceAgent> {
  const skew = options.clockSkewNs ?? 0n;
  const client = await LegacyClient.connect(options.connect, {
    ...(options.connectTimeoutMs !== undefined ? { timeoutMs: options.connectTimeoutMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    now: skew === 0n ? process.hrtime.bigint : () => process.hrtime.bigint() + skew,
  });
  const agent = new LegacyTraceAgent(client, options);
  try {
    await agent.syncClock();
  } catch (err) {
    await client.close(0);
    throw err;
  }
  return agent;
}

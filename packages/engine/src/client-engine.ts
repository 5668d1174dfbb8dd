import { dial, formatAddress, toAddress, type TransportAddress } from '@vsock-rpc/vsock';
import type { MessageName, MessageOf, MethodName, Registry, RequestOf, ResponseOf, StreamName } from '@vsock-rpc/wire';
import { Codec, DEFAULT_MAX_FRAME, VsockRpcError } from '@vsock-rpc/wire';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { ClockSync, type SyncOptions, type SyncResult } from './clock-sync.js';
import { Connection, type CallOptions, type ClockSample } from './connection.js';
import { EngineBase, type EngineOptions } from './engine-base.js';
import { ConnectionClosedError, HelloMismatchError } from './errors.js';
import { encodeEvent } from './event-encoder.js';
import { EventQueue } from './event-queue.js';
import type { PeerContext } from './peer.js';
import type { OpenStreamArgs, OpenedStream } from './stream-types.js';

/** Options of {@link ClientEngine.connect}. */
export interface ClientEngineOptions<Reg extends Registry> extends EngineOptions<Reg> {
  /** Reconnect after a lost connection (default true), with these timings. */
  readonly reconnect?: boolean | BackoffOptions;
  /** Limit of one connection attempt, dial and HELLO (default 5000 ms × timeoutScale). */
  readonly connectTimeoutMs?: number;
  /**
   * Events sent while disconnected: 'queue' (default) keeps them in the bounded queue, delivered
   * after reconnect, its policy applying when full; 'drop' drops and counts them.
   */
  readonly offline?: 'queue' | 'drop';
  /** How long a call made while disconnected waits for a connection, if it has no timeout (default 10 000 ms × timeoutScale). */
  readonly callWaitMs?: number;
  /** Stops connecting and closes the engine. */
  readonly signal?: AbortSignal;
  /**
   * Clock sync with the server (default on): a burst of `samples` exchanges (default 8) after
   * each (re)connect and every `intervalMs` (default 3000) while connected; see {@link ClientEngine.clock}.
   * `false`: no automatic syncs (`syncClock()` still works).
   */
  readonly clock?: { readonly intervalMs?: number; readonly samples?: number } | false;
}

/**
 * The guest side of vsock-rpc (or any client): one logical connection to a server that survives
 * reconnects. Typed events with `send`, typed calls with `call`, and handlers for what the
 * server sends or calls.
 *
 * Lifecycle events: 'connected' (peer), 'disconnected' (error), 'reconnecting'
 * ({ attempt, delayMs, error }), 'error' (a fatal error: HELLO mismatch; emitted only if listened).
 *
 * @example
 * ```ts
 * const client = await ClientEngine.connect('vsock://2:11451', { registry });
 * client.send('messageexp', { timestamp: process.hrtime.bigint(), str: 'HELLO' });
 * const r = await client.call('echo', { timestamp: 1n, str: 'x' }, { timeoutMs: 1000 });
 * ```
 */
export class ClientEngine<Reg extends Registry> extends EngineBase<Reg> {
  /** The server's address, parsed (show it with `formatAddress`). */
  readonly address: TransportAddress;
  readonly queue: EventQueue;
  /** The server's clock: offset, errorBound, driftPpm, lastSync, toLocal/toRemote (see {@link ClockSync}). */
  readonly clock: ClockSync;
  #options: ClientEngineOptions<Reg>;
  readonly #codec: Codec;
  #connection: Connection | undefined;
  #closed = false;
  #attempt = 0;
  #droppedOffline = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #connectAbort = new AbortController();
  #connects = 0;
  /** The last server's maxFrame (the protocol default before the first): offline sends are checked against it. */
  #peerMaxFrame = DEFAULT_MAX_FRAME;

  private constructor(address: TransportAddress, options: ClientEngineOptions<Reg>) {
    super(options, 'client');
    this.address = address;
    this.#options = options;
    this.queue = new EventQueue(options.queue);
    this.#codec = new Codec(options.registry);
    const clock = options.clock === false ? {} : (options.clock ?? {});
    this.clock = new ClockSync((t) => this.clockExchange(t), {
      intervalMs: clock.intervalMs,
      samples: clock.samples,
      timeoutMs: this.timeLimits.clockExchangeTimeoutMs,
      now: this.now,
      metrics: this.metrics,
    });
    this.metrics.sources = {
      queueDepth: () => this.queue.length,
      dropped: () => {
        const s = this.queue.stats();
        return { oldest: s.droppedOldest, newest: s.droppedNewest, rejected: s.rejected, offline: this.#droppedOffline, oversized: s.droppedOversized };
      },
      connections: () => (this.connected ? 1 : 0),
    };
    // A slow pull-consumer (recv / for await) pauses reading, as on the server: the inbox stays
    // bounded and the server's queue for us applies its policy.
    this.inbox.onFull = () => this.#connection?.pause('inbox');
    this.inbox.onDrain = () => this.#connection?.resume('inbox');
    options.signal?.addEventListener('abort', () => void this.close(0), { once: true });
  }

  /**
   * Connects to `address` ('vsock://2:11451', 'hybrid:///run/v.sock:1024', 'unix:///tmp/s',
   * 'tcp://127.0.0.1:9000') and resolves once the first HELLO exchange succeeded. A first
   * attempt that fails is retried with backoff while `reconnect` is on, until
   * `connectTimeoutMs` × 6 (default 30 s) have passed; a HELLO mismatch is never retried.
   * Every rejection is a `VsockRpcError` (an `AddressError` for a malformed address, a
   * `VsockError` from the transport, `HelloMismatchError`, `ConnectionClosedError`...).
   */
  static async connect<Reg extends Registry>(address: TransportAddress | string, options: ClientEngineOptions<Reg>): Promise<ClientEngine<Reg>> {
    const engine = new ClientEngine(toAddress(address), options);
    try {
      await engine.#firstConnect();
    } catch (err) {
      await engine.close(0); // stop its timers; its metrics make way for the next engine
      throw err;
    }
    return engine;
  }

  /** Whether a connection is open now. */
  get connected(): boolean {
    return this.#connection?.state === 'open';
  }

  /** The server, while connected. */
  get peer(): PeerContext | undefined {
    return this.connected ? this.#connection?.peer : undefined;
  }

  /** The current connection, if any (for its stats, rtt, clock exchange). */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  /** How many times a connection was established. */
  get connectCount(): number {
    return this.#connects;
  }

  /**
   * Sends event `type`: encodes it now (a schema violation throws here) and queues it. Returns
   * a promise only when the queue's 'block' policy must wait for room. Alias: {@link sendMesg}.
   *
   * A top-level binary field of 32 KiB or more is not copied: it is written later, from the
   * caller's buffer, as the frame's body (PROTOCOL.md §12). Do not modify such a buffer until
   * {@link flush} resolves.
   */
  send<K extends MessageName<Reg>>(type: K, value: MessageOf<Reg, K>): void | Promise<void> {
    if (this.#closed) throw new ConnectionClosedError('engine is closed');
    const c = this.#connection;
    if (c && c.state === 'open') return c.send(type, value);
    // Disconnected: encode and check now, exactly as a live connection does (against the last
    // peer's maxFrame), so errors surface at the call site; then queue or drop.
    const { id, payload } = encodeEvent(this.#codec, type, value, this.#peerMaxFrame);
    if ((this.#options.offline ?? 'queue') === 'drop') {
      this.#droppedOffline++;
      return;
    }
    return this.queue.push(id, payload);
  }

  /** The original's `sendMesg`: the same as {@link send}. */
  sendMesg<K extends MessageName<Reg>>(type: K, value: MessageOf<Reg, K>): void | Promise<void> {
    return this.send(type, value);
  }

  /** Calls method `method` on the server. Waits for a connection if there is none. */
  call<K extends MethodName<Reg>>(method: K, request: RequestOf<Reg, K>, options: CallOptions = {}): Promise<ResponseOf<Reg, K>> {
    const c = this.#connection;
    // Connected: hand the connection's promise straight back (an async wrapper costs microtask hops per call).
    if (c && c.state === 'open') return c.call(method, request, options) as Promise<ResponseOf<Reg, K>>;
    return this.#callWhenConnected(method, request, options);
  }

  async #callWhenConnected<K extends MethodName<Reg>>(method: K, request: RequestOf<Reg, K>, options: CallOptions): Promise<ResponseOf<Reg, K>> {
    const started = performance.now();
    await this.#waitConnected(options.timeoutMs ?? this.timeLimits.callWaitMs, options.signal);
    if (options.timeoutMs !== undefined) options = { ...options, timeoutMs: Math.max(1, options.timeoutMs - (performance.now() - started)) };
    return (await this.#connection!.call(method, request, options)) as ResponseOf<Reg, K>;
  }

  /**
   * Opens stream `name` to the server (PROTOCOL.md §11): `openStream(name, request, options?)`
   * for a `server`-mode stream (read the responses with `for await`), `openStream(name, options?)`
   * for `client` (write, `end()`, await `response`) and `bidi` (both). Unlike `call`, it does not
   * wait for a connection: while disconnected the stream comes back already failed with
   * `ConnectionClosedError`, as does every stream when the connection is lost.
   *
   * @example
   * ```ts
   * for await (const chunk of client.openStream('download', { path: '/var/log/syslog' }, { timeoutMs: 60_000 })) sink.write(chunk.data);
   * const upload = client.openStream('upload');
   * for (const part of parts) await upload.write({ data: part }); // waits for the server's credit
   * await upload.end();
   * const { bytes } = await upload.response;
   * ```
   */
  openStream<K extends StreamName<Reg>>(name: K, ...args: OpenStreamArgs<Reg, K>): OpenedStream<Reg, K> {
    if (this.#closed) throw new ConnectionClosedError('engine is closed');
    const c = this.#connection;
    if (c && c.state === 'open') return c.openStream(name, ...args) as unknown as OpenedStream<Reg, K>;
    this.registry.stream(name); // an unknown name throws here, connected or not
    throw new ConnectionClosedError(`not connected to ${formatAddress(this.address)}: stream '${name}' was not opened`);
  }

  /** One clock exchange with the server (see the clock module for syncClock). */
  clockExchange(timeoutMs?: number): Promise<ClockSample> {
    const c = this.#connection;
    if (!c || c.state !== 'open') return Promise.reject(new ConnectionClosedError('not connected'));
    return c.clockExchange(timeoutMs);
  }

  /** One clock sync now (a burst, minimum-delay sample kept); also updates {@link clock}. */
  syncClock(options?: SyncOptions): Promise<SyncResult> {
    return this.clock.sync(options);
  }

  /** Resolves when every queued event has been written to the socket. */
  async flush(): Promise<void> {
    await this.#connection?.drained();
  }

  /** Counters: the connection's, plus the queue's drops and reconnects. */
  stats() {
    const q = this.queue.stats();
    return {
      connected: this.connected,
      connects: this.#connects,
      queue: q,
      droppedOffline: this.#droppedOffline,
      connection: this.#connection?.stats(),
    };
  }

  /**
   * Closes: stops reconnecting, lets queued events and calls in flight finish for at most
   * `timeoutMs` (default 5000), then closes the connection. Events still queued after that are
   * counted as dropped.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.clock.close();
    clearTimeout(this.#reconnectTimer);
    this.#connectAbort.abort();
    const c = this.#connection;
    if (c && c.state === 'open') await c.close(timeoutMs);
    else c?.destroy();
    this.queue.close(new ConnectionClosedError('engine closed'));
    this.queue.clear(); // what never left is counted as dropped, as documented above
    this.inbox.end();
    this.metrics.close();
  }

  // ---- connecting ----

  async #firstConnect(): Promise<void> {
    const reconnect = this.#options.reconnect ?? true;
    const perAttempt = this.timeLimits.connectTimeoutMs;
    const deadline = performance.now() + perAttempt * 6;
    for (;;) {
      try {
        await this.#connectOnce();
        return;
      } catch (err) {
        const fatal = err instanceof HelloMismatchError || this.#closed;
        if (fatal || !reconnect || performance.now() >= deadline) {
          this.#closed = true;
          this.queue.close(err as Error);
          this.inbox.end();
          throw err;
        }
        const delayMs = backoffDelay(this.#attempt++, typeof reconnect === 'object' ? reconnect : {});
        this.emit('reconnecting', { attempt: this.#attempt, delayMs, error: err });
        await new Promise((r) => setTimeout(r, Math.min(delayMs, Math.max(0, deadline - performance.now()))));
      }
    }
  }

  async #connectOnce(): Promise<void> {
    const timeoutMs = this.timeLimits.connectTimeoutMs;
    const socket = await dial(this.address, { timeoutMs, signal: this.#connectAbort.signal });
    const connection = new Connection(socket, {
      ...this.connectionOptions(),
      peerInfo: socket.peer,
      queue: this.queue,
      handshakeTimeoutMs: Math.min(timeoutMs, this.timeLimits.handshakeTimeoutMs),
    });
    this.#connection = connection;
    if (this.inbox.full) connection.pause('inbox');
    connection.on('close', (err?: Error) => this.#onClose(connection, err));
    connection.on('eventError', (err: Error) => {
      if (this.listenerCount('eventError') > 0) this.emit('eventError', err);
    });
    const peer = await connection.ready;
    this.#peerMaxFrame = connection.peerMaxFrame;
    this.#attempt = 0;
    this.#connects++;
    if (this.#options.clock !== false) {
      this.clock.reset(); // a new connection may lead to another machine's clock
      this.clock.start();
    }
    this.emit('connected', peer);
  }

  #onClose(connection: Connection, err: Error | undefined): void {
    if (this.#connection !== connection) return;
    const wasOpen = connection.peer !== undefined;
    if (wasOpen) {
      this.clock.stop();
      this.emit('disconnected', err);
    }
    if (this.#closed) return;
    if (err instanceof HelloMismatchError) {
      this.#closed = true;
      if (this.listenerCount('error') > 0) this.emit('error', err);
      return;
    }
    if (!wasOpen) return; // a failed attempt: #firstConnect or #scheduleReconnect handles it
    if ((this.#options.offline ?? 'queue') === 'drop') this.#droppedOffline += this.queue.clear(false); // counted once, as offline
    if ((this.#options.reconnect ?? true) === false) return;
    this.#scheduleReconnect(err);
  }

  #scheduleReconnect(err: Error | undefined): void {
    if (this.#closed) return;
    const reconnect = this.#options.reconnect ?? true;
    const delayMs = backoffDelay(this.#attempt++, typeof reconnect === 'object' ? reconnect : {});
    this.emit('reconnecting', { attempt: this.#attempt, delayMs, error: err });
    this.#reconnectTimer = setTimeout(() => {
      this.#connectOnce().catch((e: Error) => {
        if (e instanceof HelloMismatchError) {
          this.#closed = true;
          if (this.listenerCount('error') > 0) this.emit('error', e);
          return;
        }
        this.#scheduleReconnect(e);
      });
    }, delayMs);
  }

  #waitConnected(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError('engine is closed'));
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.off('connected', onConnected);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onConnected = () => done();
      const onAbort = () => done(new VsockRpcError('CANCELLED', 'call cancelled while waiting for a connection'));
      const timer = setTimeout(
        () => done(new ConnectionClosedError(`not connected to ${formatAddress(this.address)} after ${timeoutMs} ms: the call was not sent`)),
        timeoutMs,
      );
      this.on('connected', onConnected);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

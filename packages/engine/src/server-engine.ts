import type { Duplex } from 'node:stream';
import { formatAddress, listen, type TransportAddress, type TransportServer, type TransportSocket } from '@vsock-rpc/vsock';
import {
  ControlType,
  Kind,
  encodeErrorPayload,
  encodeFrame,
  escapeText,
  type MessageName,
  type MessageOf,
  type MethodName,
  type Registry,
  type RequestOf,
  type ResponseOf,
  type StreamName,
} from '@vsock-rpc/wire';
import { Connection, type CallOptions, type ClockSample, type ConnectionStats } from './connection.js';
import { ConnectionSlots, SHARED_KEY, type Eviction } from './connection-slots.js';
import { EngineBase, type EngineOptions } from './engine-base.js';
import { stderrLogger, type Logger } from './logger.js';
import type { EvictionReason } from './metrics.js';
import type { PeerContext } from './peer.js';
import type { OpenStreamArgs, OpenedStream } from './stream-types.js';

/** Options of {@link ServerEngine.listen}. */
export interface ServerEngineOptions<Reg extends Registry> extends EngineOptions<Reg> {
  /**
   * vsock CIDs allowed to connect. Peers whose transport gives no CID (unix, tcp, hybrid) are
   * not affected unless `requireCid` is set. Refused peers get GOAWAY CID_NOT_ALLOWED.
   */
  readonly allowCids?: readonly number[];
  /** Refuse peers without a known CID when `allowCids` is set (default false). */
  readonly requireCid?: boolean;
  /**
   * Most connections at once (default 1024). When full, a newcomer takes the slot of a
   * connection whose handshake is pending, else of one idle for `evictIdleAfterMs`, from the
   * peer holding the most connections; that one gets GOAWAY CONNECTION_LIMIT ('peerEvicted').
   * Only when none is evictable is the newcomer refused with GOAWAY CONNECTION_LIMIT.
   */
  readonly maxConnections?: number;
  /**
   * Most connections of one peer at once (default 64): one vsock CID, or one remote IP address
   * over TCP. Past it the peer's own pending or idle connections are evicted as above, else the
   * newcomer is refused with GOAWAY CONNECTION_LIMIT. Unix-socket and hybrid-vsock peers have no
   * CID: they share one key, to which this limit does not apply (on hybrid vsock one host socket
   * is one VM; on a unix socket every peer is a local process), only `maxConnections` does.
   */
  readonly maxConnectionsPerCid?: number;
  /**
   * A connection with no complete frame from its peer for longer than this many ms may be
   * evicted to admit a newcomer when the server is full (default 2 × keepaliveMs, or 10 000
   * when keepalive is off; 0: only handshake-pending connections are evicted). A live peer
   * answers the keepalive PING, so it is never that silent.
   */
  readonly evictIdleAfterMs?: number;
  /** Listen backlog. */
  readonly backlog?: number;
}

/** One connected peer, as the server sees it: typed send and call towards that peer. */
export interface PeerHandle<Reg extends Registry> {
  readonly context: PeerContext;
  readonly connection: Connection;
  send<K extends MessageName<Reg>>(type: K, value: MessageOf<Reg, K>): void | Promise<void>;
  call<K extends MethodName<Reg>>(method: K, request: RequestOf<Reg, K>, options?: CallOptions): Promise<ResponseOf<Reg, K>>;
  /** Opens stream `name` towards this peer (see `ClientEngine.openStream`). */
  openStream<K extends StreamName<Reg>>(name: K, ...args: OpenStreamArgs<Reg, K>): OpenedStream<Reg, K>;
  clockExchange(timeoutMs?: number): Promise<ClockSample>;
  stats(): ConnectionStats;
  close(timeoutMs?: number): Promise<void>;
}

/**
 * The host side of vsock-rpc: accepts many peers on one address, serves their calls and
 * receives their events. A peer that misbehaves (garbage, an oversized frame, a HELLO from
 * another registry, a dead socket) is closed alone, with a typed error, a metric and one log
 * line; the others are not affected.
 *
 * Lifecycle events: 'peer' (PeerHandle), 'peerClosed' (PeerContext, error | undefined),
 * 'peerRejected' ({ address, cid, reason }), 'peerEvicted' ({ address, cid, reason, connectionId }:
 * reason 'handshake' or 'idle', closed to admit a newcomer), 'peerError' (error, address): a
 * connection that failed before or during its handshake.
 *
 * @example
 * ```ts
 * const server = await ServerEngine.listen('vsock://any:11451', { registry });
 * server.handle('echo', async (req) => req);
 * server.on('messageexp', (ev, peer) => console.log(peer.name, ev.str));
 * ```
 */
export class ServerEngine<Reg extends Registry> extends EngineBase<Reg> {
  readonly #server: TransportServer;
  readonly #options: ServerEngineOptions<Reg>;
  readonly #peers = new Map<number, PeerHandle<Reg>>();
  readonly #slots = new ConnectionSlots();
  #closing = false;
  #rejected = 0;
  readonly #evicted: Record<EvictionReason, number> = { handshake: 0, idle: 0 };

  private constructor(server: TransportServer, options: ServerEngineOptions<Reg>) {
    super(options, 'server');
    this.#server = server;
    this.#options = options;
    this.metrics.sources = {
      queueDepth: () => {
        let n = 0;
        for (const c of this.#slots.connections()) n += c.queue.length;
        return n;
      },
      dropped: () => {
        let oldest = 0;
        let newest = 0;
        let rejected = 0;
        let oversized = 0;
        for (const c of this.#slots.connections()) {
          const s = c.queue.stats();
          oldest += s.droppedOldest;
          newest += s.droppedNewest;
          rejected += s.rejected;
          oversized += s.droppedOversized;
        }
        return { oldest, newest, rejected, oversized };
      },
      connections: () => this.#peers.size,
      evicted: () => ({ ...this.#evicted }),
    };
    // A slow pull-consumer pauses every peer that feeds the shared inbox.
    this.inbox.onFull = () => {
      for (const c of this.#slots.connections()) c.pause('inbox');
    };
    this.inbox.onDrain = () => {
      for (const c of this.#slots.connections()) c.resume('inbox');
    };
    server.on('connection', (socket: TransportSocket) => this.#accept(socket));
    server.on('error', (err: Error) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  /** Listens on `address` ('vsock://any:11451', 'unix:///tmp/s', 'tcp://127.0.0.1:0', 'hybrid:///run/v.sock:1024'). */
  static async listen<Reg extends Registry>(address: TransportAddress | string, options: ServerEngineOptions<Reg>): Promise<ServerEngine<Reg>> {
    const server = await listen(address, { backlog: options.backlog });
    try {
      return new ServerEngine(server, options);
    } catch (err) {
      await server.close(); // e.g. MetricsConflictError: do not leave the address bound
      throw err;
    }
  }

  /** The bound address (with the real port when 0 or any was asked). */
  get address(): TransportAddress {
    return this.#server.address;
  }

  /** Peers whose handshake is done. */
  peers(): PeerHandle<Reg>[] {
    return [...this.#peers.values()];
  }

  /** Sends `type` to every peer; returns how many it was queued for. */
  broadcast<K extends MessageName<Reg>>(type: K, value: MessageOf<Reg, K>): number {
    let n = 0;
    for (const p of this.#peers.values()) {
      try {
        void p.send(type, value);
        n++;
      } catch {
        /* that peer's queue is full under policy 'error': counted there */
      }
    }
    return n;
  }

  /**
   * Counters: connections (handshake done), slots (every connection held, handshakes pending
   * included), rejected and evicted peers, and per-peer stats.
   */
  stats() {
    return {
      connections: this.#peers.size,
      slots: this.#slots.size,
      rejected: this.#rejected,
      evicted: { ...this.#evicted },
      peers: this.peers().map((p) => ({ name: p.context.name, address: p.context.address, ...p.stats() })),
    };
  }

  /**
   * Closes gracefully: stops accepting, sends GOAWAY to every peer, lets calls in flight finish
   * for at most `timeoutMs` (default 5000), then closes every connection.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.#server.close();
    await Promise.all([...this.#slots.connections()].map((c) => c.close(timeoutMs)));
    this.inbox.end();
    this.metrics.close();
  }

  get #logger(): Logger | undefined {
    return this.options.logger === null ? undefined : (this.options.logger ?? stderrLogger);
  }

  #accept(socket: TransportSocket): void {
    const info = socket.peer;
    const refuse = (code: string, message: string) => {
      this.#rejected++;
      this.metrics.error(code);
      this.emit('peerRejected', { address: info.address, cid: info.cid, reason: code });
      this.#logger?.warn(`refused ${escapeText(formatAddress(info.address))}: ${message}`);
      refuseConnection(socket, code, message);
    };
    if (this.#closing) return refuse('SHUTDOWN', 'server is shutting down');
    const allow = this.#options.allowCids;
    if (allow && (info.cid !== undefined ? !allow.includes(info.cid) : this.#options.requireCid === true)) {
      return refuse('CID_NOT_ALLOWED', `CID ${info.cid ?? 'unknown'} is not in the server's allowlist (${allow.join(', ')})`);
    }
    const key = peerKey(socket);
    const perKey = this.#options.maxConnectionsPerCid ?? 64;
    if (key !== SHARED_KEY && this.#slots.countOf(key) >= perKey) {
      const victim = this.#slots.victim(this.#idleAfterMs(), key);
      if (!victim)
        return refuse(
          'CONNECTION_LIMIT',
          `peer ${escapeText(key)} has ${this.#slots.countOf(key)} connections, the server's maximum per peer (maxConnectionsPerCid), all in use: close some or retry later`,
        );
      this.#evict(victim);
    }
    const max = this.#options.maxConnections ?? 1024;
    if (this.#slots.size >= max) {
      const victim = this.#slots.victim(this.#idleAfterMs());
      if (!victim) return refuse('CONNECTION_LIMIT', `server has ${this.#slots.size} connections, its maximum (maxConnections), all in use: retry later`);
      this.#evict(victim);
    }
    const connection = new Connection(socket, { ...this.connectionOptions(), peerInfo: info, initiator: false });
    this.#slots.add(connection, key);
    if (this.inbox.full) connection.pause('inbox');
    connection.on('eventError', (err: Error) => {
      if (this.listenerCount('eventError') > 0) this.emit('eventError', err, connection.peer);
    });
    connection.ready.then(
      (context) => {
        const handle = makeHandle<Reg>(connection, context);
        this.#peers.set(connection.id, handle);
        this.emit('peer', handle);
      },
      (err: Error) => {
        if (this.listenerCount('peerError') > 0) this.emit('peerError', err, info.address);
      },
    );
    connection.on('close', (err?: Error) => {
      this.#slots.delete(connection);
      const handle = this.#peers.get(connection.id);
      if (handle) {
        this.#peers.delete(connection.id);
        this.emit('peerClosed', handle.context, err);
      }
    });
  }

  /** The silence after which a connection may be evicted (see {@link ServerEngineOptions.evictIdleAfterMs}). */
  #idleAfterMs(): number {
    const o = this.#options;
    if (o.evictIdleAfterMs !== undefined) return o.evictIdleAfterMs;
    const keepaliveMs = o.keepaliveMs ?? 5000;
    return keepaliveMs > 0 ? 2 * keepaliveMs : 10_000;
  }

  /** Frees the slot of `victim` at once and closes it with GOAWAY CONNECTION_LIMIT (PROTOCOL.md §6). */
  #evict(victim: Eviction<Connection>): void {
    const c = victim.connection;
    this.#slots.delete(c);
    this.#evicted[victim.reason]++;
    const info = c.peer ?? (c.socket as TransportSocket).peer;
    const what = victim.reason === 'handshake' ? 'its handshake was still pending' : `it was idle for ${Math.round(c.idleMs)} ms`;
    const message = `evicted to admit a new connection: the server is at its connection limit and ${what}`;
    this.emit('peerEvicted', { address: info?.address, cid: info?.cid, reason: victim.reason, connectionId: c.id });
    this.#logger?.warn(`connection ${c.id} from ${escapeText(info ? formatAddress(info.address) : 'unknown')} (peer ${escapeText(victim.key)}): ${message}`);
    c.evict('CONNECTION_LIMIT', message);
  }
}

/**
 * The key a peer's connections are counted under: its vsock CID, its IP address over TCP, or
 * {@link SHARED_KEY} when the transport tells peers apart by neither (unix, hybrid).
 */
function peerKey(socket: TransportSocket): string {
  const info = socket.peer;
  if (info.cid !== undefined) return `cid:${info.cid}`;
  if (info.transport === 'tcp') {
    const ip = (socket as { remoteAddress?: string }).remoteAddress;
    if (ip) return `ip:${ip}`;
  }
  return SHARED_KEY;
}

function makeHandle<Reg extends Registry>(connection: Connection, context: PeerContext): PeerHandle<Reg> {
  return {
    context,
    connection,
    send: (type, value) => connection.send(type, value),
    call: async (method, request, options) => (await connection.call(method, request, options)) as never,
    openStream: (name, ...args) => connection.openStream(name, ...args) as never,
    clockExchange: (timeoutMs) => connection.clockExchange(timeoutMs),
    stats: () => connection.stats(),
    close: (timeoutMs) => connection.close(timeoutMs),
  };
}

/** Refuses a connection before the handshake: GOAWAY in place of HELLO (PROTOCOL.md §5), then close. */
function refuseConnection(socket: Duplex, code: string, message: string): void {
  socket.on('error', () => {});
  socket.end(encodeFrame(Kind.CONTROL, ControlType.GOAWAY, 0, encodeErrorPayload({ code, message })));
  setTimeout(() => socket.destroy(), 1000).unref?.();
}

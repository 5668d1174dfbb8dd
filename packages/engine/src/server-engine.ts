import type { Duplex } from 'node:stream';
import { listen, type TransportAddress, type TransportServer, type TransportSocket } from '@vsock-rpc/vsock';
import { ControlType, Kind, encodeErrorPayload, encodeFrame, type MessageName, type MessageOf, type MethodName, type Registry, type RequestOf, type ResponseOf } from '@vsock-rpc/wire';
import { Connection, type CallOptions, type ClockSample, type ConnectionStats } from './connection.js';
import { EngineBase, type EngineOptions } from './engine-base.js';
import { stderrLogger } from './logger.js';
import type { PeerContext } from './peer.js';

/** Options of {@link ServerEngine.listen}. */
export interface ServerEngineOptions<Reg extends Registry> extends EngineOptions<Reg> {
  /**
   * vsock CIDs allowed to connect. Peers whose transport gives no CID (unix, tcp, hybrid) are
   * not affected unless `requireCid` is set. Refused peers get GOAWAY CID_NOT_ALLOWED.
   */
  readonly allowCids?: readonly number[];
  /** Refuse peers without a known CID when `allowCids` is set (default false). */
  readonly requireCid?: boolean;
  /** Most connections at once (default 1024); more get GOAWAY CONNECTION_LIMIT. */
  readonly maxConnections?: number;
  /** Listen backlog. */
  readonly backlog?: number;
}

/** One connected peer, as the server sees it: typed send and call towards that peer. */
export interface PeerHandle<Reg extends Registry> {
  readonly context: PeerContext;
  readonly connection: Connection;
  send<K extends MessageName<Reg>>(type: K, value: MessageOf<Reg, K>): void | Promise<void>;
  call<K extends MethodName<Reg>>(method: K, request: RequestOf<Reg, K>, options?: CallOptions): Promise<ResponseOf<Reg, K>>;
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
 * 'peerRejected' ({ address, cid, reason }), 'peerError' (error, address): a connection that
 * failed before or during its handshake.
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
  readonly #connections = new Set<Connection>();
  #closing = false;
  #rejected = 0;

  private constructor(server: TransportServer, options: ServerEngineOptions<Reg>) {
    super(options, 'server');
    this.#server = server;
    this.#options = options;
    this.metrics.sources = {
      queueDepth: () => {
        let n = 0;
        for (const c of this.#connections) n += c.queue.length;
        return n;
      },
      dropped: () => {
        let oldest = 0;
        let newest = 0;
        let rejected = 0;
        for (const c of this.#connections) {
          const s = c.queue.stats();
          oldest += s.droppedOldest;
          newest += s.droppedNewest;
          rejected += s.rejected;
        }
        return { oldest, newest, rejected };
      },
      connections: () => this.#peers.size,
    };
    // A slow pull-consumer pauses every peer that feeds the shared inbox.
    this.inbox.onFull = () => {
      for (const c of this.#connections) c.pause('inbox');
    };
    this.inbox.onDrain = () => {
      for (const c of this.#connections) c.resume('inbox');
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

  /** Counters: connections, rejected peers, and per-peer stats. */
  stats() {
    return {
      connections: this.#peers.size,
      rejected: this.#rejected,
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
    await Promise.all([...this.#connections].map((c) => c.close(timeoutMs)));
    this.inbox.end();
    this.metrics.close();
  }

  #accept(socket: TransportSocket): void {
    const info = socket.peer;
    const refuse = (code: string, message: string) => {
      this.#rejected++;
      this.metrics.error(code);
      this.emit('peerRejected', { address: info.address, cid: info.cid, reason: code });
      if (this.options.logger !== null) (this.options.logger ?? stderrLogger).warn(`refused ${info.address}: ${message}`);
      refuseConnection(socket, code, message);
    };
    if (this.#closing) return refuse('SHUTDOWN', 'server is shutting down');
    if (this.#connections.size >= (this.#options.maxConnections ?? 1024)) {
      return refuse('CONNECTION_LIMIT', `server has ${this.#connections.size} connections, its maximum: retry later`);
    }
    const allow = this.#options.allowCids;
    if (allow && (info.cid !== undefined ? !allow.includes(info.cid) : this.#options.requireCid === true)) {
      return refuse('CID_NOT_ALLOWED', `CID ${info.cid ?? 'unknown'} is not in the server's allowlist (${allow.join(', ')})`);
    }
    const connection = new Connection(socket, { ...this.connectionOptions(), peerInfo: info });
    this.#connections.add(connection);
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
      this.#connections.delete(connection);
      const handle = this.#peers.get(connection.id);
      if (handle) {
        this.#peers.delete(connection.id);
        this.emit('peerClosed', handle.context, err);
      }
    });
  }
}

function makeHandle<Reg extends Registry>(connection: Connection, context: PeerContext): PeerHandle<Reg> {
  return {
    context,
    connection,
    send: (type, value) => connection.send(type, value),
    call: async (method, request, options) => (await connection.call(method, request, options)) as never,
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

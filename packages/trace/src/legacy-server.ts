/**
 * The host side of the legacy wire: a {@link LegacyServer} accepts the C++ envtest's `client`
 * binaries (and our own legacy clients), many at once, over any transport. The wire has no
 * handshake, no name and no goodbye, so everything that bounds a peer is ours: a connection cap
 * (in all and per CID), an idle deadline (no complete frame for a while), a frame deadline (a
 * frame must complete once started), strict frame checks, and a cap on unread replies.
 *
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import {
  LEGACY_ERROR_CODES,
  LEGACY_TYPE_TIMESTAMPS,
  LegacyFrameReader,
  LegacyWireError,
  answerClockRequest,
  type LegacyFrameReaderOptions,
  type LegacyMessageexp,
} from '@vsock-rpc/legacy';
import { formatAddress, listen, type PeerInfo, type TransportAddress, type TransportServer, type TransportSocket } from '@vsock-rpc/vsock';
import { escapeText } from '@vsock-rpc/wire';

/** Why a legacy peer was closed or refused (a fixed set: metric label values). */
export const LEGACY_CLOSE_CODES = [
  ...LEGACY_ERROR_CODES,
  'LEGACY_IDLE_TIMEOUT',
  'LEGACY_FRAME_TIMEOUT',
  'CONNECTION_LIMIT',
  'CID_NOT_ALLOWED',
  'SOCKET_ERROR',
  'SHUTDOWN',
] as const;
/** One of {@link LEGACY_CLOSE_CODES}. */
export type LegacyCloseCode = (typeof LEGACY_CLOSE_CODES)[number];

/** Options of a {@link LegacyServer}. */
export interface LegacyServerOptions extends LegacyFrameReaderOptions {
  /** Where to listen, e.g. 'vsock://any:47916' (the original's real port), 'unix:///run/l.sock'. */
  listen: TransportAddress | string;
  /** Most connections at once (default 256); a newcomer beyond it is closed at once and counted. */
  maxConnections?: number;
  /** Most connections per vsock CID or TCP address (default 16; unix and hybrid peers are not capped per key). */
  maxConnectionsPerCid?: number;
  /** Accept only these vsock CIDs (others are closed at once). */
  allowCids?: readonly number[];
  /** Close a peer that completes no frame for this long, ms (default 60 000; the original sends one about every 0.5 s). */
  idleTimeoutMs?: number;
  /** A frame must complete within this many ms from its first byte (default 10 000). */
  frameTimeoutMs?: number;
  /** Stop reading from a peer while this many of our reply bytes are unread in its socket (default 64 KiB). */
  maxUnreadBytes?: number;
  /** Host clock, ns (default `process.hrtime.bigint`, CLOCK_MONOTONIC as the original uses). */
  now?: () => bigint;
  /** Where one line per closed-for-cause peer goes (escaped). Default: none. */
  logger?: { warn(message: string): void };
  /** Publish `<prefix>*` metrics here. */
  promRegistry?: PromRegistry;
  /** Metric name prefix (default 'vsockrpc_legacy_'). */
  metricsPrefix?: string;
}

/** What the server measured about a peer's clock (the peer's own Δt never travels). */
export interface LegacyPeerClock {
  /** Clock requests answered. */
  exchanges: number;
  /** The last reply's T1′ (request arrival) and T2′ (reply written), host clock ns. */
  lastT1pNs: bigint | undefined;
  lastT2pNs: bigint | undefined;
  /**
   * From the first frame after the last reply, arriving at R: (R − T2′) / 2. The peer took its
   * T2 between T2′ and R, so if its request travelled no slower than that round trip, its
   * one-sample Δt is off by at most this.
   */
  correctionErrorBoundNs: bigint | undefined;
  /**
   * Largest (event ts − its arrival time) seen: a positive value means the peer's corrected
   * timestamps are in the host's future, i.e. its Δt is off by at least that much.
   */
  aheadMaxNs: bigint | undefined;
}

/** One connected legacy peer. */
export interface LegacyPeer {
  /** Per-server connection number (from 1). */
  readonly id: number;
  /** The source name: `legacy-cid<CID>:<port>` over vsock, `legacy-<host>:<port>` over TCP, `legacy#<id>` otherwise. */
  readonly source: string;
  /** The transport's view of the peer. */
  readonly info: PeerInfo;
  /** messageexp frames received. */
  messages: number;
  /** What the server measured about its clock. */
  readonly clock: LegacyPeerClock;
}

/** Counters of a {@link LegacyServer}. */
export interface LegacyServerStats {
  /** Peers connected now. */
  connections: number;
  /** Connections accepted in all. */
  accepted: number;
  /** Connections refused (cap, CID). */
  rejected: number;
  /** messageexp received, all peers. */
  messages: number;
  /** Clock requests answered. */
  clockReplies: number;
  /** Peers closed, by reason (`normal` = the peer ended the stream at a frame boundary). */
  closed: Record<string, number>;
}

/** Events of a {@link LegacyServer}. */
export interface LegacyServerEvents {
  /** A peer connected (before its first message). */
  peer: [peer: LegacyPeer];
  /** Messages completed by one chunk of bytes, in order; `arrivalNs` is when the chunk arrived (host clock). */
  messages: [peer: LegacyPeer, messages: LegacyMessageexp[], arrivalNs: bigint];
  /** A clock request was answered with T1′ and T2′. */
  clock: [peer: LegacyPeer, reply: { t1p: bigint; t2p: bigint }];
  /** A peer is gone; `code` says why when it was closed for cause. */
  peerClosed: [peer: LegacyPeer, code: LegacyCloseCode | undefined];
}

interface Conn {
  peer: LegacyPeer;
  socket: TransportSocket;
  key: string | undefined;
  reader: LegacyFrameReader;
  idle: NodeJS.Timeout | undefined;
  frame: NodeJS.Timeout | undefined;
  /** T2′ of a reply whose round trip is still to be measured. */
  replyAt: bigint | undefined;
  closing: boolean;
}

/**
 * Accepts legacy clients, many at once, and turns their frames into events. It answers clock
 * requests as the original server does (one 28-byte timestamps frame {T1′, T2′}; T1′ taken on
 * arrival rather than after decoding) and sends nothing else, ever. A bad frame closes only that
 * peer, with one log line and a count by code.
 *
 * Create it with {@link LegacyServer.listen}.
 */
export class LegacyServer extends EventEmitter<LegacyServerEvents> {
  /** The bound address. */
  readonly address: TransportAddress;
  readonly #server: TransportServer;
  readonly #opts: Required<Pick<LegacyServerOptions, 'maxConnections' | 'maxConnectionsPerCid' | 'idleTimeoutMs' | 'frameTimeoutMs' | 'maxUnreadBytes'>>;
  readonly #reader: LegacyFrameReaderOptions;
  readonly #allow: Set<number> | undefined;
  readonly #now: () => bigint;
  readonly #logger: { warn(message: string): void } | undefined;
  readonly #conns = new Set<Conn>();
  readonly #perKey = new Map<string, number>();
  readonly #closedBy: Record<string, number> = {};
  readonly #metrics: { conns: Gauge; accepted: Counter; closed: Counter; frames: Counter } | undefined;
  #ids = 0;
  #accepted = 0;
  #rejected = 0;
  #messages = 0;
  #clockReplies = 0;
  #closed = false;

  /** @internal Use {@link LegacyServer.listen}. */
  constructor(server: TransportServer, options: LegacyServerOptions) {
    super();
    this.#server = server;
    this.address = server.address;
    this.#opts = {
      maxConnections: Math.max(1, options.maxConnections ?? 256),
      maxConnectionsPerCid: Math.max(1, options.maxConnectionsPerCid ?? 16),
      idleTimeoutMs: Math.max(1, options.idleTimeoutMs ?? 60_000),
      frameTimeoutMs: Math.max(1, options.frameTimeoutMs ?? 10_000),
      maxUnreadBytes: Math.max(28, options.maxUnreadBytes ?? 64 * 1024),
    };
    this.#reader = {
      ...(options.maxLen !== undefined ? { maxLen: options.maxLen } : {}),
      ...(options.relaxed !== undefined ? { relaxed: options.relaxed } : {}),
    };
    new LegacyFrameReader(this.#reader); // validates maxLen now, not at the first connection
    this.#allow = options.allowCids ? new Set(options.allowCids) : undefined;
    this.#now = options.now ?? process.hrtime.bigint;
    this.#logger = options.logger;
    const prom = options.promRegistry;
    if (prom) {
      const p = options.metricsPrefix ?? 'vsockrpc_legacy_';
      this.#metrics = {
        conns: new Gauge({ name: `${p}connections`, help: 'Legacy peers connected now', registers: [prom] }),
        accepted: new Counter({ name: `${p}connections_total`, help: 'Legacy connections by result', labelNames: ['result'], registers: [prom] }),
        closed: new Counter({
          name: `${p}peer_errors_total`,
          help: 'Legacy peers closed or refused for cause, by code',
          labelNames: ['code'],
          registers: [prom],
        }),
        frames: new Counter({ name: `${p}frames_total`, help: 'Legacy frames received, by type', labelNames: ['type'], registers: [prom] }),
      };
    }
    server.on('connection', (s: TransportSocket) => this.#onConnection(s));
    server.on('error', () => {}); // accept errors (EMFILE): accepting resumes by itself
  }

  /**
   * Listen for legacy clients.
   * @throws the transport's listen errors (address in use, CID not bindable).
   */
  static async listen(options: LegacyServerOptions): Promise<LegacyServer> {
    const server = await listen(options.listen);
    return new LegacyServer(server, options);
  }

  /** The host clock this server stamps with, ns. */
  now(): bigint {
    return this.#now();
  }

  /** Counters. */
  stats(): LegacyServerStats {
    return {
      connections: this.#conns.size,
      accepted: this.#accepted,
      rejected: this.#rejected,
      messages: this.#messages,
      clockReplies: this.#clockReplies,
      closed: { ...this.#closedBy },
    };
  }

  /** The peers connected now. */
  peers(): LegacyPeer[] {
    return [...this.#conns].map((c) => c.peer);
  }

  /**
   * Stop accepting and close every peer. The wire has no goodbye: a peer's bytes still in flight
   * are read for up to `timeoutMs` (until it ends its side), then its socket is destroyed.
   */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#server.close();
    const conns = [...this.#conns];
    for (const c of conns) c.socket.end();
    const gone = Promise.all(conns.map((c) => new Promise<void>((r) => (c.socket.destroyed ? r() : c.socket.once('close', () => r())))));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([gone, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    for (const c of this.#conns) this.#close(c, 'SHUTDOWN', undefined);
    await gone;
  }

  #onConnection(socket: TransportSocket): void {
    const info = socket.peer;
    const key =
      info.transport === 'vsock' ? `cid:${info.cid}` : info.transport === 'tcp' && info.address.transport === 'tcp' ? `ip:${info.address.host}` : undefined;
    let refuse: LegacyCloseCode | undefined;
    if (this.#closed) refuse = 'SHUTDOWN';
    else if (this.#allow && info.transport === 'vsock' && !this.#allow.has(info.cid ?? -1)) refuse = 'CID_NOT_ALLOWED';
    else if (this.#conns.size >= this.#opts.maxConnections) refuse = 'CONNECTION_LIMIT';
    else if (key !== undefined && (this.#perKey.get(key) ?? 0) >= this.#opts.maxConnectionsPerCid) refuse = 'CONNECTION_LIMIT';
    if (refuse !== undefined) {
      // The legacy wire has no way to say no: the connection is closed unread.
      this.#rejected++;
      this.#count(refuse);
      this.#metrics?.accepted.inc({ result: 'rejected' });
      this.#logger?.warn(`legacy peer ${escapeText(formatAddress(info.address))} refused: ${refuse}`);
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const id = ++this.#ids;
    const source =
      info.transport === 'vsock'
        ? `legacy-cid${info.cid}:${info.port}`
        : info.transport === 'tcp' && info.address.transport === 'tcp'
          ? `legacy-${info.address.host}:${info.address.port}`
          : `legacy#${id}`;
    const peer: LegacyPeer = {
      id,
      source,
      info,
      messages: 0,
      clock: { exchanges: 0, lastT1pNs: undefined, lastT2pNs: undefined, correctionErrorBoundNs: undefined, aheadMaxNs: undefined },
    };
    const c: Conn = { peer, socket, key, reader: new LegacyFrameReader(this.#reader), idle: undefined, frame: undefined, replyAt: undefined, closing: false };
    this.#conns.add(c);
    if (key !== undefined) this.#perKey.set(key, (this.#perKey.get(key) ?? 0) + 1);
    this.#accepted++;
    this.#metrics?.accepted.inc({ result: 'accepted' });
    this.#metrics?.conns.set(this.#conns.size);
    this.#armIdle(c);
    socket.on('data', (chunk: Buffer) => this.#onData(c, chunk));
    socket.on('end', () => {
      try {
        c.reader.end();
        this.#close(c, undefined, undefined);
      } catch (err) {
        this.#close(c, (err as LegacyWireError).code, err as Error);
      }
    });
    socket.on('error', (err) => this.#close(c, 'SOCKET_ERROR', err));
    socket.on('close', () => this.#close(c, 'SOCKET_ERROR', new Error('connection reset')));
    this.emit('peer', peer);
  }

  #onData(c: Conn, chunk: Buffer): void {
    if (c.closing) return;
    const at = this.#now();
    let msgs;
    try {
      msgs = c.reader.push(chunk);
    } catch (err) {
      this.#close(c, err instanceof LegacyWireError ? err.code : 'LEGACY_BAD_LENGTH', err as Error);
      return;
    }
    if (msgs.length > 0) {
      this.#armIdle(c);
      if (c.replyAt !== undefined) {
        // The first frame after our reply: the peer's T2 lies between T2′ and now.
        c.peer.clock.correctionErrorBoundNs = (at - c.replyAt + 1n) / 2n;
        c.replyAt = undefined;
      }
    }
    if (c.reader.inFrame) {
      c.frame ??= setTimeout(
        () => this.#close(c, 'LEGACY_FRAME_TIMEOUT', new Error(`frame not complete within ${this.#opts.frameTimeoutMs} ms`)),
        this.#opts.frameTimeoutMs,
      );
    } else if (c.frame !== undefined) {
      clearTimeout(c.frame);
      c.frame = undefined;
    }
    let events: LegacyMessageexp[] | undefined;
    for (const m of msgs) {
      if (m.type === LEGACY_TYPE_TIMESTAMPS) {
        this.#metrics?.frames.inc({ type: 'timestamps' });
        const reply = answerClockRequest(at, this.#now);
        c.socket.write(reply.frame);
        this.#clockReplies++;
        const clock = c.peer.clock;
        clock.exchanges++;
        clock.lastT1pNs = reply.t1p;
        clock.lastT2pNs = reply.t2p;
        c.replyAt = reply.t2p;
        this.emit('clock', c.peer, { t1p: reply.t1p, t2p: reply.t2p });
        // A peer that asks and never reads stalls only itself.
        if (c.socket.writableLength > this.#opts.maxUnreadBytes && !c.socket.isPaused()) {
          c.socket.pause();
          c.socket.once('drain', () => c.socket.resume());
        }
        continue;
      }
      this.#metrics?.frames.inc({ type: 'messageexp' });
      const ahead = m.timestamp - at;
      const clock = c.peer.clock;
      if (clock.aheadMaxNs === undefined || ahead > clock.aheadMaxNs) clock.aheadMaxNs = ahead;
      (events ??= []).push({ timestamp: m.timestamp, text: m.text });
    }
    if (events) {
      c.peer.messages += events.length;
      this.#messages += events.length;
      this.emit('messages', c.peer, events, at);
    }
  }

  #armIdle(c: Conn): void {
    clearTimeout(c.idle);
    c.idle = setTimeout(
      () => this.#close(c, 'LEGACY_IDLE_TIMEOUT', new Error(`no complete frame for ${this.#opts.idleTimeoutMs} ms`)),
      this.#opts.idleTimeoutMs,
    );
  }

  #close(c: Conn, code: LegacyCloseCode | undefined, err: Error | undefined): void {
    if (c.closing) return;
    c.closing = true;
    clearTimeout(c.idle);
    clearTimeout(c.frame);
    this.#conns.delete(c);
    if (c.key !== undefined) {
      const n = (this.#perKey.get(c.key) ?? 1) - 1;
      if (n > 0) this.#perKey.set(c.key, n);
      else this.#perKey.delete(c.key);
    }
    this.#metrics?.conns.set(this.#conns.size);
    this.#count(code ?? 'normal');
    if (code !== undefined && code !== 'SHUTDOWN') {
      this.#logger?.warn(`legacy peer ${escapeText(c.peer.source)} closed: ${code}: ${escapeText(err?.message ?? '')}`);
    }
    c.socket.on('error', () => {});
    c.socket.destroy();
    this.emit('peerClosed', c.peer, code);
  }

  #count(code: string): void {
    this.#closedBy[code] = (this.#closedBy[code] ?? 0) + 1;
    if (code !== 'normal') this.#metrics?.closed.inc({ code });
  }
}

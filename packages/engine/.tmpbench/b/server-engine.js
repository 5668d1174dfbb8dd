import { formatAddress, listen } from '@vsock-rpc/vsock';
import { ControlType, Kind, encodeErrorPayload, encodeFrame, escapeText, } from '@vsock-rpc/wire';
import { Connection } from './connection.js';
import { ConnectionSlots, SHARED_KEY } from './connection-slots.js';
import { EngineBase } from './engine-base.js';
import { stderrLogger } from './logger.js';
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
export class ServerEngine extends EngineBase {
    #server;
    #options;
    #peers = new Map();
    #slots = new ConnectionSlots();
    #closing = false;
    #rejected = 0;
    #evicted = { handshake: 0, idle: 0 };
    constructor(server, options) {
        super(options, 'server');
        this.#server = server;
        this.#options = options;
        this.metrics.sources = {
            queueDepth: () => {
                let n = 0;
                for (const c of this.#slots.connections())
                    n += c.queue.length;
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
            for (const c of this.#slots.connections())
                c.pause('inbox');
        };
        this.inbox.onDrain = () => {
            for (const c of this.#slots.connections())
                c.resume('inbox');
        };
        server.on('connection', (socket) => this.#accept(socket));
        server.on('error', (err) => {
            if (this.listenerCount('error') > 0)
                this.emit('error', err);
        });
    }
    /** Listens on `address` ('vsock://any:11451', 'unix:///tmp/s', 'tcp://127.0.0.1:0', 'hybrid:///run/v.sock:1024'). */
    static async listen(address, options) {
        const server = await listen(address, { backlog: options.backlog });
        try {
            return new ServerEngine(server, options);
        }
        catch (err) {
            await server.close(); // e.g. MetricsConflictError: do not leave the address bound
            throw err;
        }
    }
    /** The bound address (with the real port when 0 or any was asked). */
    get address() {
        return this.#server.address;
    }
    /** Peers whose handshake is done. */
    peers() {
        return [...this.#peers.values()];
    }
    /** Sends `type` to every peer; returns how many it was queued for. */
    broadcast(type, value) {
        let n = 0;
        for (const p of this.#peers.values()) {
            try {
                void p.send(type, value);
                n++;
            }
            catch {
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
    async close(timeoutMs = 5000) {
        if (this.#closing)
            return;
        this.#closing = true;
        await this.#server.close();
        await Promise.all([...this.#slots.connections()].map((c) => c.close(timeoutMs)));
        this.inbox.end();
        this.metrics.close();
    }
    get #logger() {
        return this.options.logger === null ? undefined : (this.options.logger ?? stderrLogger);
    }
    #accept(socket) {
        const info = socket.peer;
        const refuse = (code, message) => {
            this.#rejected++;
            this.metrics.error(code);
            this.emit('peerRejected', { address: info.address, cid: info.cid, reason: code });
            this.#logger?.warn(`refused ${escapeText(formatAddress(info.address))}: ${message}`);
            refuseConnection(socket, code, message);
        };
        if (this.#closing)
            return refuse('SHUTDOWN', 'server is shutting down');
        const allow = this.#options.allowCids;
        if (allow && (info.cid !== undefined ? !allow.includes(info.cid) : this.#options.requireCid === true)) {
            return refuse('CID_NOT_ALLOWED', `CID ${info.cid ?? 'unknown'} is not in the server's allowlist (${allow.join(', ')})`);
        }
        const key = peerKey(socket);
        const perKey = this.#options.maxConnectionsPerCid ?? 64;
        if (key !== SHARED_KEY && this.#slots.countOf(key) >= perKey) {
            const victim = this.#slots.victim(this.#idleAfterMs(), key);
            if (!victim)
                return refuse('CONNECTION_LIMIT', `peer ${escapeText(key)} has ${this.#slots.countOf(key)} connections, the server's maximum per peer (maxConnectionsPerCid), all in use: close some or retry later`);
            this.#evict(victim);
        }
        const max = this.#options.maxConnections ?? 1024;
        if (this.#slots.size >= max) {
            const victim = this.#slots.victim(this.#idleAfterMs());
            if (!victim)
                return refuse('CONNECTION_LIMIT', `server has ${this.#slots.size} connections, its maximum (maxConnections), all in use: retry later`);
            this.#evict(victim);
        }
        const connection = new Connection(socket, { ...this.connectionOptions(), peerInfo: info, initiator: false });
        this.#slots.add(connection, key);
        if (this.inbox.full)
            connection.pause('inbox');
        connection.on('eventError', (err) => {
            if (this.listenerCount('eventError') > 0)
                this.emit('eventError', err, connection.peer);
        });
        connection.ready.then((context) => {
            const handle = makeHandle(connection, context);
            this.#peers.set(connection.id, handle);
            this.emit('peer', handle);
        }, (err) => {
            if (this.listenerCount('peerError') > 0)
                this.emit('peerError', err, info.address);
        });
        connection.on('close', (err) => {
            this.#slots.delete(connection);
            const handle = this.#peers.get(connection.id);
            if (handle) {
                this.#peers.delete(connection.id);
                this.emit('peerClosed', handle.context, err);
            }
        });
    }
    /** The silence after which a connection may be evicted (see {@link ServerEngineOptions.evictIdleAfterMs}). */
    #idleAfterMs() {
        const o = this.#options;
        if (o.evictIdleAfterMs !== undefined)
            return o.evictIdleAfterMs;
        const keepaliveMs = o.keepaliveMs ?? 5000;
        return keepaliveMs > 0 ? 2 * keepaliveMs : 10_000;
    }
    /** Frees the slot of `victim` at once and closes it with GOAWAY CONNECTION_LIMIT (PROTOCOL.md §6). */
    #evict(victim) {
        const c = victim.connection;
        this.#slots.delete(c);
        this.#evicted[victim.reason]++;
        const info = c.peer ?? c.socket.peer;
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
function peerKey(socket) {
    const info = socket.peer;
    if (info.cid !== undefined)
        return `cid:${info.cid}`;
    if (info.transport === 'tcp') {
        const ip = socket.remoteAddress;
        if (ip)
            return `ip:${ip}`;
    }
    return SHARED_KEY;
}
function makeHandle(connection, context) {
    return {
        context,
        connection,
        send: (type, value) => connection.send(type, value),
        call: async (method, request, options) => (await connection.call(method, request, options)),
        openStream: (name, ...args) => connection.openStream(name, ...args),
        clockExchange: (timeoutMs) => connection.clockExchange(timeoutMs),
        stats: () => connection.stats(),
        close: (timeoutMs) => connection.close(timeoutMs),
    };
}
/** Refuses a connection before the handshake: GOAWAY in place of HELLO (PROTOCOL.md §5), then close. */
function refuseConnection(socket, code, message) {
    socket.on('error', () => { });
    socket.end(encodeFrame(Kind.CONTROL, ControlType.GOAWAY, 0, encodeErrorPayload({ code, message })));
    setTimeout(() => socket.destroy(), 1000).unref?.();
}
//# sourceMappingURL=server-engine.js.map
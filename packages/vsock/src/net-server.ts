/**
 * TransportServer implementations: one over node:net (unix, tcp, hybrid's `<path>_<port>`)
 * and one over VsockServer. Both stop accepting on close() and leave accepted sockets alone.
 */
import { EventEmitter } from 'node:events';
import { lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { VsockAddressInUseError, VsockInvalidArgumentError } from './errors.js';
import { toVsockError } from './guidance.js';
import type { PeerInfo, TransportAddress, TransportServer, TransportSocket } from './types.js';
import type { VsockServer } from './vsock-server.js';

/** Gives a net.Socket the `peer` property every TransportSocket has. */
export function withPeer<S extends net.Socket>(socket: S, peer: PeerInfo): S & { readonly peer: PeerInfo } {
  Object.defineProperty(socket, 'peer', { value: Object.freeze({ ...peer }), enumerable: true, configurable: false, writable: false });
  return socket as S & { readonly peer: PeerInfo };
}

/** Is anything accepting on this unix socket path? Unreachable or refused means no. */
function unixSocketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect({ path });
    // A live server with a full backlog may not answer at once: count silence as alive.
    const timer = setTimeout(() => done(true), 1000);
    function done(alive: boolean): void {
      clearTimeout(timer);
      probe.destroy();
      resolve(alive);
    }
    probe.once('connect', () => done(true));
    probe.once('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}

/**
 * Makes `path` free for a unix listener: removes a stale socket file nobody answers on.
 * @throws VsockAddressInUseError when a live server answers there, or the path is not a socket.
 */
export async function clearStaleUnixSocket(path: string, address: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw toVsockError(err, { op: 'listen', address, transport: 'unix' });
  }
  if (!isSocket) {
    throw new VsockAddressInUseError(
      'EADDRINUSE',
      `listen ${address} failed (EADDRINUSE): ${path} exists and is not a socket; refusing to remove it. Choose another path.`,
      {
        syscall: 'listen',
        address,
      },
    );
  }
  if (await unixSocketAnswers(path)) {
    throw new VsockAddressInUseError(
      'EADDRINUSE',
      `listen ${address} failed (EADDRINUSE): a server already answers on ${path}. Stop it or choose another path.`,
      {
        syscall: 'listen',
        address,
      },
    );
  }
  // Left behind by a process that died without closing its listener.
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw toVsockError(err, { op: 'listen', address, transport: 'unix' });
  });
}

/** Starts a net.Server listening; resolves when listening, rejects with a typed error. */
export function listenNet(server: net.Server, options: net.ListenOptions, ctx: { address: string; transport: 'unix' | 'tcp' | 'hybrid' }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(toVsockError(err, { op: 'listen', address: ctx.address, transport: ctx.transport }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options);
  });
}

/**
 * Accept errors (EMFILE, ...) are transient: accepting resumes by itself. Report them on
 * 'error' when someone listens, but never let an unhandled 'error' crash a server of many peers.
 */
function reportAcceptError(server: EventEmitter, err: Error): void {
  if (server.listenerCount('error') > 0) server.emit('error', err);
}

/** A TransportServer over a listening net.Server. */
export class NetTransportServer extends EventEmitter implements TransportServer {
  readonly address: TransportAddress;
  readonly #server: net.Server;
  #closed: Promise<void> | undefined;

  /**
   * @param server a listening net.Server
   * @param address the bound address
   * @param peerOf what to attach as `peer` to an accepted socket
   */
  constructor(server: net.Server, address: TransportAddress, peerOf: (socket: net.Socket) => PeerInfo) {
    super();
    this.#server = server;
    this.address = address;
    server.on('connection', (socket: net.Socket) => {
      this.emit('connection', withPeer(socket, peerOf(socket)) as unknown as TransportSocket);
    });
    server.on('error', (err) => reportAcceptError(this, toVsockError(err, { op: 'accept', transport: address.transport })));
  }

  close(): Promise<void> {
    // net.Server's own 'close' waits for every accepted socket to end; ours must not,
    // so resolve once the listening handle is gone (server.close() closes it at once).
    this.#closed ??= new Promise((resolve) => {
      this.#server.close();
      process.nextTick(() => {
        this.emit('close');
        resolve();
      });
    });
    return this.#closed;
  }
}

/** A TransportServer over a listening VsockServer. */
export class VsockTransportServer extends EventEmitter implements TransportServer {
  readonly address: TransportAddress;
  readonly #server: VsockServer;
  #closed: Promise<void> | undefined;

  constructor(server: VsockServer) {
    super();
    this.#server = server;
    const bound = server.address();
    if (!bound)
      throw new VsockInvalidArgumentError('ERR_INVALID_ARG_VALUE', 'VsockTransportServer needs a listening VsockServer: call listen() and wait for it first');
    this.address = { transport: 'vsock', cid: bound.cid, port: bound.port };
    // VsockSocket already has `peer`.
    server.on('connection', (socket) => this.emit('connection', socket as unknown as TransportSocket));
    server.on('error', (err) => reportAcceptError(this, err));
  }

  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      this.#server.close(() => {
        this.emit('close');
        resolve();
      });
    });
    return this.#closed;
  }
}

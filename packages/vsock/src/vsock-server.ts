/**
 * VsockServer: an AF_VSOCK listener shaped like `net.Server`. The addon watches the
 * listening fd on libuv's loop and accepts until EAGAIN on each wake-up.
 */
import { EventEmitter } from 'node:events';
import { formatAddress } from './address.js';
import { VMADDR_CID_ANY, VMADDR_PORT_ANY } from './constants.js';
import { VsockError, VsockInvalidArgumentError } from './errors.js';
import { toVsockError } from './guidance.js';
import { native, type NativeAddress, type NativeWatch } from './native.js';
import { VsockSocket } from './vsock-socket.js';

/** Options of {@link createVsockServer}. */
export interface VsockServerOptions {
  /** Passed to every accepted socket (default false, as node:net). */
  allowHalfOpen?: boolean;
  /** SO_VM_SOCKETS_BUFFER_SIZE in bytes for accepted sockets (they inherit the listener's). */
  bufferSize?: number;
  /** Stream buffer size in bytes (both directions) of accepted sockets; default Node's. */
  highWaterMark?: number;
}

/** Options form of {@link VsockServer.listen}. */
export interface VsockListenOptions {
  /** Port to listen on; {@link VMADDR_PORT_ANY} (or -1) lets the kernel choose. */
  port: number;
  /** CID to bind; default {@link VMADDR_CID_ANY} (every CID of this machine). */
  cid?: number;
  /** Listen backlog (default 511). */
  backlog?: number;
}

/** How long to back off after an accept error such as EMFILE before accepting again. */
const ACCEPT_RETRY_MS = 250;

/**
 * Events of a {@link VsockServer}:
 * - `'listening'` ()
 * - `'connection'` (socket: {@link VsockSocket})
 * - `'error'` (err: {@link VsockError}): bind/listen failures; accept failures (EMFILE...) only
 *   when an 'error' listener exists, as accepting resumes by itself after a short back-off
 * - `'close'` (): the listener is closed (accepted sockets are not affected)
 */
export interface VsockServerEvents {
  listening: [];
  connection: [socket: VsockSocket];
  error: [err: VsockError];
  close: [];
}

/** A vsock listener shaped like `net.Server`. Create with {@link createVsockServer}. */
export class VsockServer extends EventEmitter<VsockServerEvents> {
  #fd = -1;
  #watch: NativeWatch | null = null;
  #bound: NativeAddress | null = null;
  #refed = true;
  #retry: NodeJS.Timeout | undefined;
  readonly #allowHalfOpen: boolean;
  readonly #bufferSize: number | undefined;
  readonly #highWaterMark: number | undefined;

  constructor(options: VsockServerOptions = {}) {
    super();
    this.#allowHalfOpen = options.allowHalfOpen ?? false;
    this.#bufferSize = options.bufferSize;
    this.#highWaterMark = options.highWaterMark;
  }

  /** True between 'listening' and close(). */
  get listening(): boolean {
    return this.#watch !== null;
  }

  /**
   * Binds and listens. Emits `'listening'` (and calls `cb`) on success, `'error'` on failure,
   * always asynchronously, like net.Server.
   * @param port port, or VMADDR_PORT_ANY / -1 for a kernel-chosen one
   * @param cid CID to bind (default VMADDR_CID_ANY)
   */
  listen(port: number, cid?: number, cb?: () => void): this;
  listen(options: VsockListenOptions, cb?: () => void): this;
  listen(a: number | VsockListenOptions, b?: number | (() => void), c?: () => void): this {
    const opts: VsockListenOptions = typeof a === 'object' && a !== null ? a : { port: a, ...(typeof b === 'number' ? { cid: b } : {}) };
    const cb = typeof b === 'function' ? b : c;
    if (cb) this.once('listening', cb);
    const cid = opts.cid === undefined || opts.cid === -1 ? VMADDR_CID_ANY : opts.cid;
    const port = opts.port === -1 ? VMADDR_PORT_ANY : opts.port;
    const address =
      Number.isInteger(cid) && Number.isInteger(port) && cid >= 0 && port >= 0 && cid <= VMADDR_CID_ANY && port <= VMADDR_PORT_ANY
        ? formatAddress({ transport: 'vsock', cid, port })
        : `vsock://${String(opts.cid)}:${String(opts.port)}`;
    try {
      if (this.#fd >= 0) throw new VsockError('ERR_SERVER_ALREADY_LISTEN', `listen ${address}: this server is already listening; close() it first`);
      for (const [what, v] of [
        ['cid', cid],
        ['port', port],
      ] as const) {
        if (!Number.isInteger(v) || v < 0 || v > VMADDR_CID_ANY) {
          throw new VsockInvalidArgumentError('EINVAL', `listen ${address} failed (EINVAL): ${what} must be an integer in 0..4294967295 or -1`, {
            syscall: 'bind',
            address,
          });
        }
      }
      const backlog = opts.backlog ?? 511;
      if (!Number.isInteger(backlog) || backlog < 0) {
        throw new VsockInvalidArgumentError('EINVAL', `listen ${address} failed (EINVAL): backlog must be a non-negative integer`, {
          syscall: 'listen',
          address,
        });
      }
      this.#open(cid, port, backlog, address);
    } catch (err) {
      process.nextTick(() => this.emit('error', toVsockError(err, { op: 'listen', address, cid })));
      return this;
    }
    process.nextTick(() => {
      if (this.#watch) this.emit('listening');
    });
    return this;
  }

  #open(cid: number, port: number, backlog: number, address: string): void {
    const n = native();
    let fd: number;
    try {
      fd = n.socket();
    } catch (err) {
      throw toVsockError(err, { op: 'socket', address, cid });
    }
    let op = 'setBufferSize';
    try {
      // Set on the listener: the kernel copies it into every socket accept() returns.
      if (this.#bufferSize !== undefined) n.setBufferSize(fd, this.#bufferSize);
      op = 'bind';
      n.bind(fd, cid, port);
      op = 'listen';
      n.listen(fd, backlog);
      this.#bound = n.getsockname(fd);
      this.#fd = fd;
      this.#watch = n.watchAccept(fd, (err, cfd, rcid, rport) => this.#onAccept(err, cfd, rcid, rport));
      if (!this.#refed) n.watchRef(this.#watch, false);
    } catch (err) {
      this.#watch = null;
      this.#fd = -1;
      this.#bound = null;
      n.close(fd);
      throw toVsockError(err, { op, address, cid });
    }
  }

  #onAccept(err: Error | null, fd?: number, cid?: number, port?: number): void {
    if (err) {
      const e = toVsockError(err, { op: 'accept', address: this.#formatted() });
      // The addon stopped watching so a persistent EMFILE cannot spin; resume later.
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        if (this.#watch) native().watchResume(this.#watch);
      }, ACCEPT_RETRY_MS);
      if (!this.#refed) this.#retry.unref();
      if (this.listenerCount('error') > 0) this.emit('error', e);
      return;
    }
    if (fd === undefined || cid === undefined || port === undefined || !this.#watch) return; // unclaimed: the addon closes it
    // From here the fd is ours to wrap or close (see NativeBinding.watchAccept).
    native().watchClaim(this.#watch);
    let socket: VsockSocket;
    try {
      const local = native().getsockname(fd);
      socket = new VsockSocket({
        fd,
        local,
        remote: { cid, port },
        allowHalfOpen: this.#allowHalfOpen,
        ...(this.#highWaterMark === undefined ? {} : { highWaterMark: this.#highWaterMark }),
      });
    } catch (e) {
      // The peer vanished between accept and getsockname, or libuv refused the fd.
      try {
        native().close(fd);
      } catch {
        // already closed
      }
      if (this.listenerCount('error') > 0) this.emit('error', toVsockError(e, { op: 'accept', address: this.#formatted() }));
      return;
    }
    this.emit('connection', socket);
  }

  #formatted(): string {
    return this.#bound ? formatAddress({ transport: 'vsock', cid: this.#bound.cid, port: this.#bound.port }) : 'vsock://?';
  }

  /** The bound CID and port (the real port when VMADDR_PORT_ANY was asked), or null when not listening. */
  address(): { cid: number; port: number } | null {
    return this.#bound && this.#fd >= 0 ? { cid: this.#bound.cid, port: this.#bound.port } : null;
  }

  /**
   * Stops accepting and closes the listening socket; accepted sockets stay open.
   * Emits `'close'` asynchronously; `cb` gets an error if the server was not listening.
   */
  close(cb?: (err?: Error) => void): this {
    if (this.#fd < 0) {
      if (cb) process.nextTick(cb, new VsockError('ERR_SERVER_NOT_RUNNING', 'close: this vsock server is not listening'));
      return this;
    }
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
    const n = native();
    if (this.#watch) n.watchClose(this.#watch); // leaves epoll before the fd is closed
    this.#watch = null;
    try {
      n.close(this.#fd);
    } catch {
      // closing can only fail with EBADF here, and then it is closed anyway
    }
    this.#fd = -1;
    if (cb) this.once('close', cb);
    process.nextTick(() => this.emit('close'));
    return this;
  }

  /** Let the process exit while only this server is open (as net.Server#unref). */
  unref(): this {
    this.#refed = false;
    if (this.#watch) native().watchRef(this.#watch, false);
    this.#retry?.unref();
    return this;
  }

  /** Undo {@link VsockServer.unref}. */
  ref(): this {
    this.#refed = true;
    if (this.#watch) native().watchRef(this.#watch, true);
    this.#retry?.ref();
    return this;
  }
}

/** Creates a vsock server; call `listen(port, cid?)` on it. `connectionListener` is added for 'connection'. */
export function createVsockServer(options?: VsockServerOptions, connectionListener?: (socket: VsockSocket) => void): VsockServer;
/** Creates a vsock server with default options; `connectionListener` is added for 'connection'. */
export function createVsockServer(connectionListener?: (socket: VsockSocket) => void): VsockServer;
export function createVsockServer(a?: VsockServerOptions | ((socket: VsockSocket) => void), b?: (socket: VsockSocket) => void): VsockServer {
  const server = new VsockServer(typeof a === 'object' ? a : {});
  const listener = typeof a === 'function' ? a : b;
  if (listener) server.on('connection', listener);
  return server;
}

/**
 * This machine's CID (IOCTL_VM_SOCKETS_GET_LOCAL_CID on /dev/vsock): its own CID in a guest,
 * 2 on a host with vhost_vsock.
 * @throws VsockUnsupportedError when /dev/vsock is missing (vsock modules not loaded).
 */
export function getLocalCid(): number {
  try {
    return native().getLocalCid();
  } catch (err) {
    throw toVsockError(err, { op: 'getLocalCid' });
  }
}

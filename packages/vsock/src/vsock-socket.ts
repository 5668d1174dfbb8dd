/**
 * VsockSocket: a connected AF_VSOCK stream. It *is* a `net.Socket` (over libuv's pipe
 * handle), so backpressure and 'drain', end/half-close, destroy, a single 'close',
 * cork/writev all behave exactly as in node:net.
 */
import net from 'node:net';
import { formatAddress } from './address.js';
import { native, type NativeAddress } from './native.js';
import { toVsockError } from './guidance.js';
import { streamHandleOptions } from './stream-handle.js';
import type { PeerInfo } from './types.js';

/** Options when wrapping a connected vsock fd. */
export interface VsockSocketInit {
  /** Connected AF_VSOCK fd; ownership passes to the socket. */
  fd: number;
  /** Our end, from getsockname. */
  local: NativeAddress;
  /** Their end, from getpeername / accept. */
  remote: NativeAddress;
  /** As in net.Socket (default false). */
  allowHalfOpen?: boolean;
  /** Stream buffer size in bytes (both directions); default Node's. */
  highWaterMark?: number;
}

/**
 * A connected vsock stream: a `net.Socket` plus the CIDs and ports of both ends.
 * Obtain one from {@link connectVsock} or a {@link VsockServer}'s `'connection'` event.
 */
export class VsockSocket extends net.Socket {
  /** CID of the other end. */
  readonly remoteCid: number;
  /** Port of the other end. */
  override readonly remotePort: number;
  /** Our CID (as the kernel bound it). */
  readonly localCid: number;
  /** Our port. */
  override readonly localPort: number;
  /** The fd, kept only for buffer-size calls while the socket is open. */
  readonly #fd: number;

  /** @internal Use {@link connectVsock} or {@link VsockServer}; this takes ownership of `init.fd`. */
  constructor(init: VsockSocketInit) {
    super(
      streamHandleOptions(init.fd, {
        ...(init.allowHalfOpen === undefined ? {} : { allowHalfOpen: init.allowHalfOpen }),
        ...(init.highWaterMark === undefined ? {} : { highWaterMark: init.highWaterMark }),
      }),
    );
    this.#fd = init.fd;
    this.remoteCid = init.remote.cid;
    this.remotePort = init.remote.port;
    this.localCid = init.local.cid;
    this.localPort = init.local.port;
  }

  /** What we know about the other end (the shape every transport gives). */
  get peer(): PeerInfo {
    return {
      transport: 'vsock',
      address: { transport: 'vsock', cid: this.remoteCid, port: this.remotePort },
      cid: this.remoteCid,
      port: this.remotePort,
    };
  }

  /**
   * The socket's vsock buffer size in bytes (SO_VM_SOCKETS_BUFFER_SIZE): how much the peer
   * may send before we read. Default 256 KiB.
   * @throws VsockError if the socket is already destroyed.
   */
  getBufferSize(): number {
    this.#checkOpen('getBufferSize');
    try {
      return native().getBufferSize(this.#fd);
    } catch (err) {
      throw toVsockError(err, { op: 'getBufferSize', address: formatAddress(this.peer.address) });
    }
  }

  /**
   * Sets SO_VM_SOCKETS_BUFFER_SIZE (how much the peer may send before we read), raising
   * SO_VM_SOCKETS_BUFFER_MAX_SIZE when `bytes` exceeds it. The kernel may still clamp it.
   */
  setBufferSize(bytes: number): this {
    this.#checkOpen('setBufferSize');
    try {
      native().setBufferSize(this.#fd, bytes);
    } catch (err) {
      throw toVsockError(err, { op: 'setBufferSize', address: formatAddress(this.peer.address) });
    }
    return this;
  }

  #checkOpen(op: string): void {
    // After destroy the fd number may already belong to someone else.
    if (this.destroyed) throw toVsockError({ code: 'EBADF', message: 'socket is destroyed' }, { op });
  }
}

/**
 * Transport-neutral types shared by dial()/listen() and the four transports.
 * @packageDocumentation
 */
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

/** A parsed transport address. vsock CIDs and ports are unsigned 32-bit (`0xFFFFFFFF` = any). */
export type TransportAddress =
  | { transport: 'vsock'; cid: number; port: number }
  | { transport: 'hybrid'; path: string; port: number }
  | { transport: 'unix'; path: string }
  | { transport: 'tcp'; host: string; port: number };

/** What we know about the other end of a connection. */
export interface PeerInfo {
  /** Transport of the connection (the same as `address.transport`). */
  transport: TransportAddress['transport'];
  /**
   * The remote end (for unix/hybrid: the socket path used, as the peer has no address of its
   * own there). Show it with `formatAddress(peer.address)`.
   */
  address: TransportAddress;
  /** Remote CID (vsock only). */
  cid?: number;
  /** Remote port (vsock and tcp; hybrid: the guest port dialed, for host-initiated connections). */
  port?: number;
}

/** A connected byte stream of any transport, with what is known of its peer. */
export type TransportSocket = Duplex & {
  readonly peer: PeerInfo;
  setNoDelay?(b?: boolean): unknown;
};

/**
 * A listening endpoint of any transport.
 * Events: `'connection'` (socket: {@link TransportSocket}), `'error'` (err: accept failures such
 * as EMFILE, emitted only when listened to, as accepting resumes by itself), `'close'`.
 */
export interface TransportServer extends EventEmitter {
  /** The bound address, with the real port if 0/any was asked. */
  readonly address: TransportAddress;
  /** Stops accepting; existing sockets are untouched. Resolves once the listener is closed. */
  close(): Promise<void>;
}

/** Options of {@link dial}. */
export interface DialOptions {
  /** Give up (with a VsockTimeoutError or HybridHandshakeError) after this many ms. */
  timeoutMs?: number;
  /** Abort the attempt (rejects with VsockAbortError). */
  signal?: AbortSignal;
  /** Keep our writable side open after the peer ends (default false, as in node:net). */
  allowHalfOpen?: boolean;
  /** vsock only: SO_VM_SOCKETS_BUFFER_SIZE in bytes (kernel default 256 KiB). */
  bufferSize?: number;
  /** Stream buffer size in bytes (both directions); default Node's (16 KiB on Node 20). Raising it to ~1 MiB with bufferSize doubled vsock echo throughput in the guest bench. */
  highWaterMark?: number;
}

/** Options of {@link listen}. */
export interface ListenOptions {
  /** Listen backlog (default 511, as node:net). */
  backlog?: number;
  /** Keep accepted sockets' writable side open after the peer ends (default false, as in node:net). */
  allowHalfOpen?: boolean;
  /** vsock only: SO_VM_SOCKETS_BUFFER_SIZE in bytes for accepted sockets. */
  bufferSize?: number;
  /** Stream buffer size in bytes (both directions) of accepted sockets; default Node's. */
  highWaterMark?: number;
}

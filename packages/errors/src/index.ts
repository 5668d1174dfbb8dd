/**
 * `@vsock-rpc/errors`: the base class of every error the vsock-rpc packages throw.
 *
 * It lives in a package of its own so that `@vsock-rpc/wire` (bytes) and `@vsock-rpc/vsock`
 * (sockets) can share it and still depend on nothing of each other.
 * @packageDocumentation
 */

/** Optional fields of a {@link VsockRpcError}, as node's own system errors have them. */
export interface VsockRpcErrorOptions {
  /** The underlying error, if any (becomes `error.cause`). */
  cause?: unknown;
  /** The POSIX errno (positive) when the error came from a syscall. */
  errno?: number;
  /** The failing syscall or operation (`bind`, `connect`, `handshake`...). */
  syscall?: string;
  /**
   * The address involved, formatted (`vsock://3:1234`, `unix:///run/x.sock`): a string, as in
   * node's errors, so that it is printable as is and can also name an address that did not parse.
   */
  address?: string;
}

/**
 * Base class of every vsock-rpc error. `code` is stable across releases: match on it.
 *
 * `syscall`, `errno` and `address` are set only where they apply (a socket operation that
 * failed, the address it concerned), like the fields of node's own errors; elsewhere they are
 * `undefined`. `name` is the concrete class name (e.g. `'FrameTooLargeError'`).
 *
 * @example
 * ```ts
 * try { await engine.call('lookup', req); }
 * catch (e) { if (e instanceof VsockRpcError && e.code === 'DEADLINE_EXCEEDED') retry(); }
 * ```
 */
export class VsockRpcError extends Error {
  /** Stable machine-readable code, e.g. `'FRAME_TOO_LARGE'`, `'ECONNREFUSED'`, `'UNAVAILABLE'`. */
  readonly code: string;
  /** Positive errno when a syscall failed. */
  declare readonly errno?: number;
  /** The failing syscall or operation, when there is one. */
  declare readonly syscall?: string;
  /** The address involved, formatted like `formatAddress` of `@vsock-rpc/vsock` writes it. */
  declare readonly address?: string;

  /**
   * @param code stable machine-readable code
   * @param message what happened and what to do about it
   * @param options cause, and the node-style `errno`, `syscall`, `address` where they apply
   */
  constructor(code: string, message: string, options: VsockRpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    // Only the fields that apply become own properties, as on node's errors.
    const self = this as { errno?: number; syscall?: string; address?: string };
    if (options.errno !== undefined) self.errno = options.errno;
    if (options.syscall !== undefined) self.syscall = options.syscall;
    if (options.address !== undefined) self.address = options.address;
  }
}

/** True when `value` is a {@link VsockRpcError} (an `instanceof` check with a type guard). */
export function isVsockRpcError(value: unknown): value is VsockRpcError {
  return value instanceof VsockRpcError;
}

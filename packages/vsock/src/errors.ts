/**
 * Typed errors of @vsock-rpc/vsock. Every message says what happened and what to do.
 * All of them extend {@link VsockError}, so one `instanceof` catches the package's errors,
 * and `code` keeps the POSIX name (`EADDRNOTAVAIL`, `ECONNREFUSED`, ...) for programs.
 * {@link VsockError} itself extends {@link VsockRpcError} (`@vsock-rpc/errors`), the base
 * class of every vsock-rpc error, so one `instanceof VsockRpcError` catches all packages' errors.
 * @packageDocumentation
 */
import { VsockRpcError, type VsockRpcErrorOptions } from '@vsock-rpc/errors';

export { VsockRpcError, isVsockRpcError, type VsockRpcErrorOptions } from '@vsock-rpc/errors';

/**
 * Fields common to every error of this package: `errno`, `syscall`, `cause` and `address`
 * (formatted, `vsock://3:1234`, `unix:///run/x.sock`), as in {@link VsockRpcErrorOptions}.
 */
export type VsockErrorOptions = VsockRpcErrorOptions;

/**
 * Base class of this package's errors: a {@link VsockRpcError} whose `code` is a POSIX error
 * name (e.g. `EADDRNOTAVAIL`) or a package code (e.g. `ERR_VSOCK_ADDRESS`), with node's
 * `errno`, `syscall` and `address` (formatted) when they apply.
 */
export class VsockError extends VsockRpcError {
  constructor(code: string, message: string, options: VsockErrorOptions = {}) {
    super(code, message, options);
  }
}

/** `EADDRNOTAVAIL`: the CID asked for is not one this machine can bind; the message lists those it can. */
export class VsockAddressNotAvailableError extends VsockError {}

/** `EADDRINUSE`: the port (or unix socket path) is taken by a live listener. */
export class VsockAddressInUseError extends VsockError {}

/** `EAFNOSUPPORT` / `ENODEV` / `ENOENT` on /dev/vsock: vsock is not available; the message names the kernel modules to load. */
export class VsockUnsupportedError extends VsockError {}

/** `ECONNREFUSED` / `ECONNRESET` while connecting: no one listens on that address. */
export class VsockConnectionRefusedError extends VsockError {}

/** `ETIMEDOUT`: the peer did not answer in time. */
export class VsockTimeoutError extends VsockError {}

/** `EINVAL` / `ERR_INVALID_ARG_VALUE`: an argument is out of range or of the wrong type. */
export class VsockInvalidArgumentError extends VsockError {}

/** `ABORT_ERR`: the caller's AbortSignal fired. `cause` is the signal's reason. */
export class VsockAbortError extends VsockError {
  constructor(message: string, options: VsockErrorOptions = {}) {
    super('ABORT_ERR', message, options);
    // Same name as DOM/Node abort errors, so generic `err.name === 'AbortError'` checks work.
    this.name = 'AbortError';
  }
}

/** `ERR_VSOCK_ADDON`: the native addon could not be loaded; the message says how to build it. */
export class VsockAddonError extends VsockError {
  constructor(cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      'ERR_VSOCK_ADDON',
      `The AF_VSOCK addon (packages/vsock/build/Release/vsock.node) could not be loaded: ${why}. ` +
        'Build it with `npm run build -w @vsock-rpc/vsock` (needs a C compiler, make, python3 and Node headers). ' +
        'unix://, tcp:// and hybrid:// addresses work without it.',
      { cause },
    );
  }
}

/** Why a hybrid vsock handshake failed. */
export type HybridHandshakeFailure = 'refused' | 'closed' | 'timeout' | 'malformed' | 'aborted' | 'unreachable';

/**
 * `EHYBRIDHANDSHAKE`: the Firecracker / Cloud Hypervisor muxer did not answer `OK <port>` to
 * `CONNECT <port>`. `reason` classifies it and `received` holds what came back, verbatim.
 */
export class HybridHandshakeError extends VsockError {
  /** What went wrong, as a word. */
  readonly reason: HybridHandshakeFailure;
  /** The bytes the muxer sent instead of `OK <port>\n` (as latin1 text; may be empty). */
  readonly received: string;

  constructor(reason: HybridHandshakeFailure, received: string, message: string, options: VsockErrorOptions = {}) {
    super('EHYBRIDHANDSHAKE', message, { syscall: 'handshake', ...options });
    this.reason = reason;
    this.received = received;
  }
}

/** The address forms {@link parseAddress} accepts, for error messages and docs. */
export const ACCEPTED_ADDRESS_FORMS = [
  'vsock://<cid>:<port>   cid: a number, -1, any, host (2) or local (1); port: a number, -1 or any',
  'hybrid://<absolute path of the muxer unix socket>:<port>',
  'unix://<path>',
  'tcp://<host>:<port>    IPv6 hosts in brackets: tcp://[::1]:80',
] as const;

/** `ERR_VSOCK_ADDRESS`: a transport address could not be parsed or is out of range. */
export class AddressError extends VsockError {
  /** The text (or object, JSON-encoded) that was rejected. */
  readonly input: string;

  constructor(input: string, problem: string) {
    super('ERR_VSOCK_ADDRESS', `Invalid transport address ${JSON.stringify(input)}: ${problem}. Accepted forms:\n  ` + ACCEPTED_ADDRESS_FORMS.join('\n  '));
    this.input = input;
  }
}

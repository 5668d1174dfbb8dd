/**
 * Turns errno-style errors (from the addon or from node:net) into typed errors whose
 * messages say what to do. Kept apart from errors.ts because the guidance reads live
 * facts (the local CID, loaded kernel modules) through the addon.
 */
import { existsSync } from 'node:fs';
import {
  VsockAddressInUseError,
  VsockAddressNotAvailableError,
  VsockConnectionRefusedError,
  VsockError,
  VsockInvalidArgumentError,
  VsockTimeoutError,
  VsockUnsupportedError,
  type VsockErrorOptions,
} from './errors.js';
import { VMADDR_CID_ANY, VMADDR_CID_HOST } from './constants.js';
import { native } from './native.js';

/** What we were doing when the error happened. */
export interface ErrorContext {
  /** Operation, e.g. `bind`, `connect`, `listen`, `accept`, `socket`. */
  op: string;
  /** Formatted address (`vsock://3:5000`, `unix:///run/a.sock`). */
  address?: string;
  /** vsock CID involved, if any: drives the EADDRNOTAVAIL guidance. */
  cid?: number;
  /** Transport, for wording. */
  transport?: 'vsock' | 'hybrid' | 'unix' | 'tcp';
}

interface ErrnoLike {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  message?: unknown;
}

const MODULES_HINT =
  'Load the kernel modules: in a guest `modprobe vsock vmw_vsock_virtio_transport` (virtio-vsock device), ' +
  'on a host `modprobe vhost_vsock`, and `modprobe vsock_loopback` for CID 1 (local loopback).';

/** Which CIDs bind() accepts on this machine, as a readable list. Never throws. */
export function bindableCids(): string {
  const list = ['-1 (any)'];
  if (existsSync('/sys/module/vsock_loopback')) list.push('1 (local, vsock_loopback is loaded)');
  let local: number | undefined;
  try {
    local = native().getLocalCid();
  } catch {
    // /dev/vsock unreadable: we can still name the always-valid choice
  }
  const vhost = existsSync('/sys/module/vhost_vsock');
  if (local === VMADDR_CID_HOST || vhost) list.push('2 (host: this machine runs vhost_vsock)');
  if (local !== undefined && local > VMADDR_CID_HOST && local !== VMADDR_CID_ANY) {
    list.push(`${local} (this guest's own CID)`);
  }
  return list.join(', ');
}

function errnoCode(e: ErrnoLike): string {
  return typeof e.code === 'string' ? e.code : 'EUNKNOWN';
}

/**
 * Wraps an errno-style error into the matching typed {@link VsockError}.
 * Errors that already are VsockErrors pass through unchanged.
 */
export function toVsockError(err: unknown, ctx: ErrorContext): VsockError {
  if (err instanceof VsockError) return err;
  const e: ErrnoLike = typeof err === 'object' && err !== null ? (err as ErrnoLike) : { message: String(err) };
  const code = errnoCode(e);
  const where = ctx.address ? ` ${ctx.address}` : '';
  const opts: VsockErrorOptions = {
    cause: err,
    syscall: typeof e.syscall === 'string' ? e.syscall : ctx.op,
    ...(typeof e.errno === 'number' ? { errno: Math.abs(e.errno) } : {}),
    ...(ctx.address ? { address: ctx.address } : {}),
  };
  const head = `${ctx.op}${where} failed (${code})`;
  const transport = ctx.transport ?? 'vsock';
  switch (code) {
    case 'EADDRNOTAVAIL':
      if (transport === 'vsock') {
        return new VsockAddressNotAvailableError(
          code,
          `${head}: CID ${ctx.cid === VMADDR_CID_ANY ? 'any' : (ctx.cid ?? '?')} is not an address of this machine. ` +
            `CIDs bindable here: ${bindableCids()}. Listen on vsock://any:<port> to accept on every CID.`,
          opts,
        );
      }
      return new VsockAddressNotAvailableError(code, `${head}: that address is not local to this machine.`, opts);
    case 'EADDRINUSE':
      return new VsockAddressInUseError(
        code,
        `${head}: the ${transport === 'unix' || transport === 'hybrid' ? 'socket path' : 'port'} is already in use by a live listener. ` +
          'Stop the other server or pick another address.',
        opts,
      );
    case 'EAFNOSUPPORT':
    case 'ENODEV':
    case 'ESOCKTNOSUPPORT':
    case 'EPROTONOSUPPORT':
      return new VsockUnsupportedError(
        code,
        `${head}: AF_VSOCK ${code === 'ENODEV' ? 'has no transport for this CID' : 'is not available in this kernel'}. ${MODULES_HINT}`,
        opts,
      );
    case 'ENOENT':
      if (ctx.op === 'getLocalCid') {
        return new VsockUnsupportedError(code, `${head}: /dev/vsock does not exist. ${MODULES_HINT}`, opts);
      }
      return new VsockConnectionRefusedError(code, `${head}: the socket file does not exist: no one listens there (is the server or VM running?).`, opts);
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return new VsockConnectionRefusedError(
        code,
        transport === 'vsock'
          ? `${head}: no one listens on that CID and port. Start the server there first, and check the CID (this machine's is readable with getLocalCid()).`
          : `${head}: no one listens on that address. Start the server first.`,
        opts,
      );
    case 'ETIMEDOUT':
      return new VsockTimeoutError(
        code,
        `${head}: the peer did not answer in time. Check that the ${transport === 'vsock' ? 'CID is reachable (VM running, vsock device attached)' : 'peer is up'} and that its server accepts connections.`,
        opts,
      );
    case 'EINVAL':
    case 'ERR_INVALID_ARG_VALUE':
    case 'ERR_INVALID_ARG_TYPE':
    case 'ERR_OUT_OF_RANGE':
      return new VsockInvalidArgumentError(code, `${head}: ${String(e.message ?? 'invalid argument')}`, opts);
    case 'EACCES':
    case 'EPERM':
      return new VsockError(
        code,
        `${head}: permission denied (vsock ports below 1024 need CAP_NET_BIND_SERVICE; unix paths need write access to their directory).`,
        opts,
      );
    case 'EMFILE':
    case 'ENFILE':
      return new VsockError(code, `${head}: out of file descriptors; raise the limit (ulimit -n) or close idle connections.`, opts);
    default:
      return new VsockError(code, `${head}: ${String(e.message ?? code)}`, opts);
  }
}

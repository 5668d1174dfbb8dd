/**
 * connectVsock(): a non-blocking AF_VSOCK connect whose completion is watched on
 * libuv's loop by the addon (writable → SO_ERROR), with an optional timeout and AbortSignal.
 */
import { formatAddress } from './address.js';
import { VMADDR_CID_ANY } from './constants.js';
import { VsockAbortError, VsockInvalidArgumentError, VsockTimeoutError } from './errors.js';
import { toVsockError } from './guidance.js';
import { native, type NativeWatch } from './native.js';
import { VsockSocket } from './vsock-socket.js';

/** Options of {@link connectVsock}. */
export interface ConnectVsockOptions {
  /** Remote CID: 1 local loopback, 2 the host, 3+ a guest. */
  cid: number;
  /** Remote port. */
  port: number;
  /**
   * Give up after this many ms with a {@link VsockTimeoutError}. Without it the kernel's own
   * vsock connect timeout applies (2 s by default).
   */
  timeoutMs?: number;
  /** Abort the attempt: rejects with a {@link VsockAbortError}. */
  signal?: AbortSignal;
  /** As in net.Socket (default false). */
  allowHalfOpen?: boolean;
  /** SO_VM_SOCKETS_BUFFER_SIZE in bytes, set before connecting (kernel default 256 KiB). */
  bufferSize?: number;
  /** Stream buffer size in bytes (both directions) of the returned socket; default Node's. */
  highWaterMark?: number;
}

function checkTarget(what: string, v: unknown, address: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= VMADDR_CID_ANY) {
    throw new VsockInvalidArgumentError('EINVAL', `connect ${address} failed (EINVAL): ${what} must be an integer in 0..4294967294 (got ${String(v)})`, {
      syscall: 'connect',
      address,
    });
  }
  return v;
}

/**
 * Connects to a vsock listener.
 * @returns the connected {@link VsockSocket}.
 * @throws (rejects) VsockConnectionRefusedError when no one listens there, VsockTimeoutError,
 *   VsockUnsupportedError when vsock is unavailable, VsockAbortError, VsockInvalidArgumentError.
 */
export function connectVsock(options: ConnectVsockOptions): Promise<VsockSocket> {
  return new Promise<VsockSocket>((resolve, reject) => {
    const { timeoutMs, signal } = options;
    const address =
      typeof options.cid === 'number' && typeof options.port === 'number' && options.cid >= 0 && options.port >= 0
        ? formatAddress({ transport: 'vsock', cid: options.cid >>> 0, port: options.port >>> 0 })
        : `vsock://${String(options.cid)}:${String(options.port)}`;
    let cid: number;
    let port: number;
    try {
      cid = checkTarget('cid', options.cid, address);
      port = checkTarget('port', options.port, address);
      if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0 && Number.isFinite(timeoutMs))) {
        throw new VsockInvalidArgumentError('EINVAL', `connect ${address}: timeoutMs must be a finite number >= 0`);
      }
    } catch (err) {
      reject(err);
      return;
    }
    if (signal?.aborted) {
      reject(new VsockAbortError(`connect ${address} aborted before it started`, { cause: signal.reason, address }));
      return;
    }
    const n = native();
    let fd: number;
    try {
      fd = n.socket();
    } catch (err) {
      reject(toVsockError(err, { op: 'socket', address, cid }));
      return;
    }

    let watch: NativeWatch | null = null;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;

    const cleanup = (): void => {
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      if (settled) return;
      cleanup();
      // The watch must leave epoll before the fd number can be reused.
      if (watch) n.watchClose(watch);
      try {
        n.close(fd);
      } catch {
        // already closed: nothing more to release
      }
      reject(err);
    };
    const succeed = (): void => {
      if (settled) return;
      cleanup();
      try {
        const local = n.getsockname(fd);
        const remote = n.getpeername(fd);
        resolve(
          new VsockSocket({
            fd,
            local,
            remote,
            ...(options.allowHalfOpen === undefined ? {} : { allowHalfOpen: options.allowHalfOpen }),
            ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
          }),
        );
      } catch (err) {
        // getpeername fails with ENOTCONN if the peer reset in between.
        settled = false;
        watch = null;
        fail(toVsockError(err, { op: 'connect', address, cid }));
      }
    };
    function onAbort(): void {
      fail(new VsockAbortError(`connect ${address} aborted`, { cause: signal?.reason, address }));
    }

    try {
      if (options.bufferSize !== undefined) n.setBufferSize(fd, options.bufferSize);
    } catch (err) {
      fail(toVsockError(err, { op: 'setBufferSize', address, cid }));
      return;
    }
    try {
      watch = n.connect(fd, cid, port, (err) => {
        watch = null; // a connect watch closes itself after its one callback
        if (err) fail(toVsockError(err, { op: 'connect', address, cid }));
        else succeed();
      });
    } catch (err) {
      fail(toVsockError(err, { op: 'connect', address, cid }));
      return;
    }
    if (watch === null) {
      succeed();
      return;
    }
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        fail(
          new VsockTimeoutError(
            'ETIMEDOUT',
            `connect ${address} failed (ETIMEDOUT): no answer within ${timeoutMs} ms. Check that the CID is reachable (VM running, vsock device attached) and that a server listens on that port.`,
            {
              syscall: 'connect',
              address,
            },
          ),
        );
      }, timeoutMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

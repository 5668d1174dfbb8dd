/**
 * The one place that touches Node internals: turning a connected fd into a full
 * `net.Socket` through libuv's pipe handle (`process.binding('pipe_wrap')`).
 *
 * Why: libuv streams work on any connected stream fd (AF_VSOCK included), giving us
 * Node's own read/write path: backpressure, writev, half-close, one 'close'. But
 * node:net only opens fds it can identify (`new net.Socket({ fd })` rejects AF_VSOCK
 * as an unknown handle type), so we create the Pipe handle ourselves. If a Node
 * upgrade moves this, test/stream-handle.test.ts fails loudly.
 */
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { VsockError } from './errors.js';

/** Shape of the internal Pipe handle we rely on. */
interface PipeHandle {
  open(fd: number): number;
  close(cb?: () => void): void;
}

interface PipeWrap {
  Pipe: new (type: number) => PipeHandle;
  constants: { SOCKET: number };
}

let pipeWrap: PipeWrap | undefined;

/** Loads pipe_wrap once, checking the shape we rely on. */
function loadPipeWrap(): PipeWrap {
  if (pipeWrap) return pipeWrap;
  // process.binding is documentation-deprecated (DEP0111): it only warns under
  // --pending-deprecation, so normal runs print nothing.
  const binding = (process as unknown as { binding(name: string): unknown }).binding('pipe_wrap') as Partial<PipeWrap> & {
    constants?: { SOCKET?: unknown };
  };
  if (typeof binding?.Pipe !== 'function' || typeof binding.constants?.SOCKET !== 'number') {
    throw new VsockError(
      'ERR_VSOCK_NODE_INTERNALS',
      `process.binding('pipe_wrap') no longer provides Pipe and constants.SOCKET in Node ${process.version}; ` +
        '@vsock-rpc/vsock must be updated for this Node version',
    );
  }
  pipeWrap = binding as PipeWrap;
  return pipeWrap;
}

/** Options for {@link socketFromFd}. */
export interface SocketFromFdOptions {
  /** Passed to net.Socket (default false). */
  allowHalfOpen?: boolean;
  /** Stream buffer size (both directions) in bytes; default Node's (16 KiB on Node 20). */
  highWaterMark?: number;
}

/**
 * Wraps a connected, non-blocking stream fd in a libuv pipe handle, returned as options
 * for `new net.Socket(...)`. On success the handle owns the fd (destroying the socket
 * closes it); on failure the fd is still the caller's.
 * @throws VsockError with `code` (e.g. `EBADF`), `errno` and `syscall` when libuv refuses the fd.
 */
export function streamHandleOptions(fd: number, options: SocketFromFdOptions = {}): net.SocketConstructorOpts {
  const { Pipe, constants } = loadPipeWrap();
  const handle = new Pipe(constants.SOCKET);
  const rc = handle.open(fd);
  if (rc !== 0) {
    // Drop the empty handle; it does not own the fd since open() failed.
    handle.close();
    const code = getSystemErrorName(rc);
    throw new VsockError(code, `cannot open fd ${fd} as a stream (${code}): libuv refused it; is it a connected stream socket?`, {
      errno: -rc,
      syscall: 'uv_pipe_open',
    });
  }
  return {
    handle,
    readable: true,
    writable: true,
    allowHalfOpen: options.allowHalfOpen ?? false,
    ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
  } as net.SocketConstructorOpts;
}

/** A `net.Socket` over a connected stream fd (see {@link streamHandleOptions}). */
export function socketFromFd(fd: number, options: SocketFromFdOptions = {}): net.Socket {
  return new net.Socket(streamHandleOptions(fd, options));
}

/**
 * The typed errors of `@vsock-rpc/trace`. Like every vsock-rpc error they derive from
 * {@link VsockRpcError} (`@vsock-rpc/errors`) and carry a stable `code`:
 *
 * - `ERR_INVALID_ARG_VALUE`: an option or argument is out of range (node's code for it).
 * - `ERR_TRACE_NO_CLOCK_SYNC`: a new agent got no clock sync with the collector in time.
 * - `ERR_TRACE_BAD_LINE`: `parseJsonLine` was given a line that is not a trace event.
 * - `ERR_LEGACY_NO_CLOCK_SYNC`: a legacy server did not answer a clock request in time.
 * - `ERR_LEGACY_CLOSED`: the legacy server closed the connection.
 * - `ERR_INVALID_STATE`: a legacy clock exchange was started while one was running.
 * - the legacy wire's own errors are `LegacyWireError`s of `@vsock-rpc/legacy` (`LEGACY_*` codes).
 * - an exporter's stream failure keeps the stream error's own code (`ENOSPC`, `EPIPE`...), or
 *   `ERR_TRACE_EXPORT` when it has none; `cause` is the original error.
 * @packageDocumentation
 */
import { VsockRpcError, type VsockRpcErrorOptions } from '@vsock-rpc/engine';

/** An error of the trace layer (see the codes above). */
export class TraceError extends VsockRpcError {
  constructor(code: string, message: string, options?: VsockRpcErrorOptions) {
    super(code, message, options);
  }
}

/** An option or argument is out of range: code `ERR_INVALID_ARG_VALUE`. */
export function invalidArgument(message: string): TraceError {
  return new TraceError('ERR_INVALID_ARG_VALUE', message);
}

/**
 * What an exporter's stream failed with, as a {@link TraceError}: the stream error's message,
 * `code`, `errno` and `syscall` are kept (node's fs and stream errors carry them), the original
 * is the `cause`. A vsock-rpc error passes through as it is.
 */
export function exportError(err: unknown): VsockRpcError {
  if (err instanceof VsockRpcError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; errno?: unknown; syscall?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  return new TraceError(typeof e.code === 'string' ? e.code : 'ERR_TRACE_EXPORT', message, {
    cause: err,
    ...(typeof e.errno === 'number' ? { errno: Math.abs(e.errno) } : {}),
    ...(typeof e.syscall === 'string' ? { syscall: e.syscall } : {}),
  });
}

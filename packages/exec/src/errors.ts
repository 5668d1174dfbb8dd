/**
 * The typed errors of `@vsock-rpc/exec`. Like every vsock-rpc error they derive from
 * {@link VsockRpcError} and carry a stable `code`:
 *
 * - `ERR_EXEC_USAGE`: a bad command line or option value (the CLI exits 2).
 * - `ERR_EXEC_TOKEN`: the token file cannot be read or is empty.
 * - `ERR_EXEC_NO_PTY`: a pseudo-terminal was asked for and `node-pty` is not installed or built.
 * - `ERR_EXEC_PROTOCOL`: the agent broke the session's order (output before `started`, no `exit`).
 * - the agent's refusals travel as stream RESETs and reach `run()` as `RpcError`s with
 *   `PERMISSION_DENIED` (wrong token), `RESOURCE_EXHAUSTED` (too many sessions) or
 *   `INVALID_ARGUMENT`; a refused connection as `GoawayError` `CID_NOT_ALLOWED`.
 * @packageDocumentation
 */
import { VsockRpcError, type VsockRpcErrorOptions } from '@vsock-rpc/engine';

/** An error of vsexec (see the codes above). */
export class ExecError extends VsockRpcError {
  constructor(code: string, message: string, options?: VsockRpcErrorOptions) {
    super(code, message, options);
  }
}

/** A bad command line or option value: code `ERR_EXEC_USAGE`. */
export function usageError(message: string): ExecError {
  return new ExecError('ERR_EXEC_USAGE', message);
}

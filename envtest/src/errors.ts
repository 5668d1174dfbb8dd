/**
 * The typed errors of the envtest CLI. Like every vsock-rpc error they derive from
 * {@link VsockRpcError} and carry a stable `code`:
 *
 * - `ERR_USAGE` ({@link UsageError}, in args.ts): a mistake on the command line (exit code 2).
 * - `ERR_ENVTEST_LISTEN` / `ERR_ENVTEST_CONNECT`: the server could not listen, the client could
 *   not connect; when the transport said why, its own code is kept instead (`EADDRINUSE`,
 *   `ECONNREFUSED`, `HELLO_MISMATCH`...), and `address` is the address as given.
 * - `ERR_ENVTEST_WORKER`: a worker thread ended without its result.
 * - `ERR_ENVTEST_FLUSH_TIMEOUT`: the client could not deliver its last events in time.
 * - `ERR_ENVTEST_CLIENTS_FAILED`: `envtest demo`'s clients did not all succeed.
 * - {@link TraceSetupError}, with the ftrace source's code (`NOT_ROOT`, `NO_TRACEFS`,
 *   `EVENT_NOT_FOUND`, `LOCKDOWN`, `BAD_FILTER`, `BAD_EVENT_SPEC`, `INSTANCE_FAILED`): --ftrace
 *   could not be set up (exit code 2, like a usage error: the command cannot run as given).
 * @packageDocumentation
 */
import { VsockRpcError, type VsockRpcErrorOptions } from '@vsock-rpc/wire';

/** An error of the envtest CLI (see the codes above). */
export class EnvtestError extends VsockRpcError {
  constructor(code: string, message: string, options?: VsockRpcErrorOptions) {
    super(code, message, options);
  }
}

/** A thrown value as an Error of the family: VsockRpcErrors as they are, others wrapped (`cause`) with `code`. */
export function asFamilyError(err: unknown, code: string): VsockRpcError {
  if (err instanceof VsockRpcError) return err;
  return new EnvtestError(code, err instanceof Error ? err.message : String(err), { cause: err });
}

/**
 * --ftrace could not be set up: not root, no tracefs, an unknown event, lockdown, a filter the
 * kernel refuses. `code` is the ftrace source's (FtraceError), `path` the tracefs path involved.
 * The CLI exits with code 2.
 */
export class TraceSetupError extends EnvtestError {
  /** The tracefs path involved, when there is one. */
  readonly path: string | undefined;

  constructor(code: string, message: string, path?: string) {
    super(code, message);
    this.path = path;
  }
}

/** The CLI's exit code for an error: 2 for a usage mistake or a tracing setup failure, 1 for the rest. */
export function exitCodeOf(err: unknown): number {
  return err instanceof TraceSetupError || (err instanceof VsockRpcError && err.code === 'ERR_USAGE') ? 2 : 1;
}

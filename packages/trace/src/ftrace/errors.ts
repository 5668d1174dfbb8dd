/**
 * The typed error of the ftrace source: every failure to set tracing up (not root, no tracefs,
 * unknown event, lockdown, a filter the kernel rejects, a bad event spec, an instance that cannot
 * be created) is an {@link FtraceError} with a stable `code` and a message that names the event
 * or path and says what to do.
 * @packageDocumentation
 */
import type { VsockRpcErrorOptions } from '@vsock-rpc/engine';
import { TraceError } from '../errors.js';

/** The stable codes of {@link FtraceError}. */
export type FtraceErrorCode = 'NOT_ROOT' | 'NO_TRACEFS' | 'EVENT_NOT_FOUND' | 'LOCKDOWN' | 'BAD_FILTER' | 'BAD_EVENT_SPEC' | 'INSTANCE_FAILED';

/**
 * Tracing could not be set up. `code` says why (see {@link FtraceErrorCode}); `path` is the
 * tracefs file or directory involved, when there is one.
 */
export class FtraceError extends TraceError {
  declare readonly code: FtraceErrorCode;
  /** The tracefs path involved, when there is one. */
  readonly path: string | undefined;

  constructor(code: FtraceErrorCode, message: string, options: VsockRpcErrorOptions & { path?: string } = {}) {
    super(code, message, options);
    this.path = options.path;
  }
}

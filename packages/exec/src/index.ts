/**
 * `@vsock-rpc/exec`: run commands inside a VM from its host over vsock or hybrid vsock. The
 * agent ({@link ExecAgent}) runs in the guest; the host uses {@link ExecClient}. The `vsexec`
 * command wraps both.
 * @packageDocumentation
 */
export { ExecAgent, type ExecAgentOptions, type ExecAgentStats } from './agent.js';
export { ExecClient, type RunOptions, type RunningCommand } from './run.js';
export { ExecError } from './errors.js';
export { EXIT_NOT_STARTED, EXIT_TIMED_OUT, EXIT_VSEXEC_FAILED, exitCodeOf, describeStatus, signalName, signalNumber } from './exit-status.js';
export { DEFAULT_ALLOW_CIDS, HOST_CID, parseCidList, peerRefusal, type CidAllowlist } from './peer-policy.js';
export { tokensEqual, readTokenFile } from './token.js';
export { DEFAULT_CONNECT, DEFAULT_LISTEN } from './cli-args.js';
export {
  DEFAULT_PORT,
  MAX_ARGS,
  MAX_ARG_LENGTH,
  MAX_CHUNK,
  MAX_ENV,
  execRegistry,
  type ExecRegistry,
  ExitStatus,
  OpenRequest,
  SessionInput,
  SessionOutput,
  WindowSize,
} from './registry.js';

/**
 * @packageDocumentation
 * `@vsock-rpc/engine`: typed events and calls over any vsock-rpc transport. {@link ServerEngine}
 * on the host, {@link ClientEngine} in the guest, one {@link Connection} per peer underneath.
 */
export { ClientEngine } from './client-engine.js';
export { ServerEngine } from './server-engine.js';
// The clock exchange for users who sync clocks themselves (one sample's arithmetic, the pick of
// the least-delayed sample, a burst), and the model a ClockSync keeps.
export { sampleOffset, pickMinDelay, } from './clock.js';
export { syncClock, ClockSync } from './clock-sync.js';
export { MetricsConflictError } from './metrics.js';
export { KNOWN_ERROR_CODES, UNKNOWN_LABEL, OTHER_CODE, DROP_REASONS, EVICTION_REASONS } from './metrics.js';
export { RpcError, HelloMismatchError, ConnectionClosedError, GoawayError, QueueFullError } from './errors.js';
/** The one base class of every vsock-rpc error, and the one address type with its one formatter (re-exported for packages above the engine). */
export { VsockRpcError, isVsockRpcError } from '@vsock-rpc/wire';
export { formatAddress, parseAddress, toAddress } from '@vsock-rpc/vsock';
export { stderrLogger, silentLogger } from './logger.js';
//# sourceMappingURL=index.js.map
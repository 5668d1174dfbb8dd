/**
 * @packageDocumentation
 * `@vsock-rpc/engine`: typed events and calls over any vsock-rpc transport. {@link ServerEngine}
 * on the host, {@link ClientEngine} in the guest, one {@link Connection} per peer underneath.
 */
export { ClientEngine, type ClientEngineOptions } from './client-engine.js';
export { ServerEngine, type ServerEngineOptions, type PeerHandle } from './server-engine.js';
// What users need, and nothing more: the classes below the engines (the frame writer, the
// router, the inbox, the clock's arithmetic helpers) are internals, imported by the tests from
// their source files. api/vsock-rpc-engine.api.md lists this surface; `npm run lint` checks it.
export type { EngineBase, EngineOptions, TypedEvent, TypedHandler } from './engine-base.js';
export type { Connection, ConnectionState, ConnectionOptions, ConnectionStats, CallOptions, ClockSample, ReceivedEvent } from './connection.js';
export type { EventQueue, EventQueueOptions, EventQueueStats, QueuePolicy } from './event-queue.js';
export type { CallContext, EventHandler, MethodHandler } from './router.js';
export type {
  StreamOptions,
  StreamReader,
  StreamWriter,
  StreamCall,
  ServerStreamCall,
  ClientStreamCall,
  BidiStreamCall,
  UntypedStreamCall,
  OpenedStream,
  OpenStreamArgs,
  StreamContext,
  StreamResponder,
  TypedStreamHandler,
  StreamHandlerResult,
} from './stream-types.js';
// The clock exchange for users who sync clocks themselves (one sample's arithmetic, the pick of
// the least-delayed sample, a burst), and the model a ClockSync keeps.
export {
  sampleOffset,
  pickMinDelay,
  type OffsetEstimate,
  type PickedSample,
  type ClockModel,
  type ClockModelState,
  type Converted,
  type DriftEstimate,
} from './clock.js';
export { syncClock, ClockSync, type ClockExchange, type SyncOptions, type SyncResult, type SyncEvent, type ClockSyncOptions } from './clock-sync.js';
export { MetricsConflictError, type EngineMetrics, type EngineMetricsOptions, type LatencySummary, type ClockFigures } from './metrics.js';
export { KNOWN_ERROR_CODES, UNKNOWN_LABEL, OTHER_CODE, DROP_REASONS, EVICTION_REASONS, type DropReason, type EvictionReason } from './metrics.js';
export type { PeerBudgetOptions } from './peer-budget.js';
export type { FrameDeadlineOptions } from './receive-deadlines.js';
export type { BackoffOptions } from './backoff.js';
export { DEFAULT_TIME_LIMITS, type TimeLimits, type TimeLimitOptions } from './time-limits.js';
export { RpcError, HelloMismatchError, ConnectionClosedError, GoawayError, QueueFullError } from './errors.js';
/** The one base class of every vsock-rpc error, and the one address type with its one formatter (re-exported for packages above the engine). */
export { VsockRpcError, isVsockRpcError, type VsockRpcErrorOptions } from '@vsock-rpc/wire';
export { formatAddress, parseAddress, toAddress, type TransportAddress } from '@vsock-rpc/vsock';
export { stderrLogger, silentLogger, type Logger } from './logger.js';
export type { PeerContext } from './peer.js';

/**
 * @packageDocumentation
 * `@vsock-rpc/engine`: typed events and calls over any vsock-rpc transport. {@link ServerEngine}
 * on the host, {@link ClientEngine} in the guest, one {@link Connection} per peer underneath.
 */
export { ClientEngine, type ClientEngineOptions } from './client-engine.js';
export { ServerEngine, type ServerEngineOptions, type PeerHandle } from './server-engine.js';
export { EngineBase, type EngineOptions, type TypedEvent, type TypedHandler } from './engine-base.js';
export { Connection, compareHello, type ConnectionState, type ConnectionOptions, type ConnectionStats, type CallOptions, type ClockSample, type ReceivedEvent } from './connection.js';
export { EventQueue, type EventQueueOptions, type EventQueueStats, type QueuePolicy } from './event-queue.js';
export { Inbox } from './inbox.js';
export { FrameWriter, type FrameWriterOptions } from './frame-writer.js';
export { Router, type CallContext, type EventHandler, type MethodHandler } from './router.js';
export { sampleOffset, pickMinDelay, estimateDrift, DriftEstimator, ClockModel, floorDiv, ceilDiv, type OffsetEstimate, type PickedSample, type DriftPoint, type DriftEstimate, type DriftOptions, type ClockModelState, type Converted } from './clock.js';
export { syncClock, ClockSync, type ClockExchange, type SyncOptions, type SyncResult, type SyncEvent, type ClockSyncOptions } from './clock-sync.js';
export { EngineMetrics, MetricsConflictError, type EngineMetricsOptions, type LatencySummary, type ClockFigures } from './metrics.js';
export { KNOWN_ERROR_CODES, UNKNOWN_LABEL, OTHER_CODE, DROP_REASONS, EVICTION_REASONS, type DropReason, type EvictionReason } from './metrics.js';
export type { PeerBudgetOptions } from './peer-budget.js';
export type { FrameDeadlineOptions } from './receive-deadlines.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { RpcError, HelloMismatchError, ConnectionClosedError, GoawayError, QueueFullError } from './errors.js';
/** The one base class of every vsock-rpc error, and the one address type with its one formatter (re-exported for packages above the engine). */
export { VsockRpcError, isVsockRpcError, type VsockRpcErrorOptions } from '@vsock-rpc/wire';
export { formatAddress, parseAddress, toAddress, type TransportAddress } from '@vsock-rpc/vsock';
export { stderrLogger, silentLogger, type Logger } from './logger.js';
export type { PeerContext } from './peer.js';

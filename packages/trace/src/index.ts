/**
 * `@vsock-rpc/trace`: trace events for the envtest demo.
 *
 * - {@link TraceEvent} / {@link TraceBatch}: TypeBox schemas and static types (bigint ns
 *   timestamps), ready for the wire registry ({@link TraceSchemas}).
 * - {@link WatermarkMerge}: merges per-source event streams into one timeline in global
 *   timestamp order, with a lateness bound, per-source buffer shares, rejection of events
 *   stamped in the future, and late-event accounting.
 * - {@link SequenceTracker}: per-source dedup, gap and ack bookkeeping on the host.
 * - Exporters ({@link ConsoleExporter}, {@link JsonlExporter}, {@link PerfettoExporter}):
 *   stream the merged timeline to a `Writable` or a file, with bounded buffering.
 *
 * - {@link traceRegistry}: the wire registry of the trace protocol (TYPE_ ids 0x7000 … 0x70FF).
 * - {@link createTraceAgent} / {@link TraceAgent} (guest): `emit` never blocks; batches,
 *   converts timestamps to the host clock, numbers events, sends heartbeats.
 * - {@link createCollector} / {@link Collector} (host): many agents on one address, merged with
 *   host-side events into one timeline; {@link Timeline} is the same merge without the server,
 *   for a collector split across threads.
 * - The legacy wire (the C++ envtest's, `@vsock-rpc/legacy`): `createCollector({ wire: 'legacy' })`
 *   ({@link LegacyCollector} over a {@link LegacyServer}) and `createTraceAgent({ wire: 'legacy' })`
 *   ({@link LegacyTraceAgent} over a {@link LegacyClient}).
 *
 * @packageDocumentation
 */
export {
  TraceEvent,
  TraceBatch,
  TraceBatchEvent,
  TraceFields,
  TraceFieldValue,
  TraceFieldNames,
  TraceSchemas,
  MAX_SOURCE_LENGTH,
  MAX_TEXT_LENGTH,
  MAX_FIELDS,
  MAX_FIELD_NAME_LENGTH,
  MAX_BATCH_EVENTS,
  eventsFromBatch,
  batchFromEvents,
} from './schema.js';
export { WatermarkMerge, type WatermarkMergeOptions, type MergeStats, type RejectReason } from './merge.js';
export { SequenceTracker, DEFAULT_MAX_SEQ_GAP, type SequenceTrackerOptions, type SeqVerdict } from './sequence.js';
export { RetiredSources, DEFAULT_MAX_RETIRED_SOURCES } from './retention.js';
export * from './exporters/index.js';
export {
  traceRegistry,
  TraceTypeIds,
  TRACE_TYPE_ID_MIN,
  TRACE_TYPE_ID_MAX,
  TraceAgentStatus,
  TraceClockReport,
  TraceAck,
  type TraceRegistry,
} from './registry.js';
export { Timeline, clampGuestStatus, MAX_GUEST_COUNTER, type TimelineOptions, type TimelineStats, type SourceStats, type SourceAck } from './timeline.js';
export { TraceAgent, createTraceAgent, type AgentEvent, type TraceAgentOptions, type TraceAgentStats } from './agent.js';
export { CollectorBase } from './collector-base.js';
export { Collector, createCollector, PeerSources, sendAcks, DEFAULT_ACK_INTERVAL_MS, type CollectorOptions, type CollectorStats } from './collector.js';
export { TraceError } from './errors.js';
export {
  LegacyServer,
  LEGACY_CLOSE_CODES,
  type LegacyCloseCode,
  type LegacyServerOptions,
  type LegacyServerStats,
  type LegacyServerEvents,
  type LegacyPeer,
  type LegacyPeerClock,
} from './legacy-server.js';
export { LegacyClient, LegacyTraceAgent, type LegacyClientOptions, type LegacyClockResult, type LegacyTraceAgentOptions } from './legacy-agent.js';
export { LegacyCollector, legacyBatch, type LegacyCollectorOptions, type LegacyCollectorStats } from './legacy-collector.js';
export * from './ftrace/index.js';

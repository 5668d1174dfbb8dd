/**
 * `@vsock-rpc/trace`: trace events for the envtest demo.
 *
 * - {@link TraceEvent} / {@link TraceBatch}: TypeBox schemas and static types (bigint ns
 *   timestamps), ready for the wire registry ({@link TraceSchemas}).
 * - {@link WatermarkMerge}: merges per-source event streams into one timeline in global
 *   timestamp order, with a lateness bound, a buffer bound and late-event accounting.
 * - Exporters ({@link ConsoleExporter}, {@link JsonlExporter}, {@link PerfettoExporter}):
 *   stream the merged timeline to a `Writable` or a file, with bounded buffering.
 *
 * The guest agent and host collector (which need `@vsock-rpc/engine`) come later.
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
  eventsFromBatch,
  batchFromEvents,
} from './schema.js';
export { WatermarkMerge, type WatermarkMergeOptions, type MergeStats } from './merge.js';
export * from './exporters/index.js';

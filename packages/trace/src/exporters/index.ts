/**
 * Exporters: console, JSON Lines, Chrome/Perfetto trace JSON.
 *
 * @packageDocumentation
 */
export { StreamExporter, jsonWithBigints, type TraceExporter, type ExporterStats, type StreamExporterOptions } from './base.js';
export { ConsoleExporter, type ConsoleExporterOptions } from './console.js';
export { JsonlExporter, eventToJsonLine, parseJsonLine, type JsonlExporterOptions } from './jsonl.js';
export { PerfettoExporter, nsToMicrosString, type PerfettoExporterOptions } from './perfetto.js';
export { CPU_FIELD, SCHED_SWITCH_KIND, FTRACE_STATS_KIND, MAX_CPU_TRACKS } from './cpu-tracks.js';

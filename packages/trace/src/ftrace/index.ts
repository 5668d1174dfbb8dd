/**
 * The ftrace source: kernel events (and `trace_marker` lines) from a tracefs instance of its own,
 * read from the binary per-CPU ring buffers. {@link FtraceSource} does the I/O; the parsers
 * ({@link parseFormatFile}, {@link parseHeaderPage}, {@link parseHeaderEvent},
 * {@link parseRingBufferPage}) are pure and need no kernel.
 * @packageDocumentation
 */
export { FtraceSource } from './source.js';
export { FtraceError, type FtraceErrorCode } from './errors.js';
export type { FtraceEventSpec, FtraceSourceOptions, FtraceEvent, FtraceFieldValue, FtraceCpuStats, FtraceStats } from './types.js';
export { parseFtraceEventSpecs, parseFtraceEventSpec, MAX_EVENT_SPECS, MAX_EVENT_SPEC_TEXT } from './spec.js';
export { parseFormatFile, classifyField, type FtraceEventFormat, type FtraceField, type FtraceFieldKind } from './format.js';
export { parseHeaderPage, parseHeaderEvent, DEFAULT_PAGE_LAYOUT, DEFAULT_EVENT_HEADER, type FtracePageLayout, type FtraceEventHeaderLayout } from './header.js';
export { FtracePageParser, parseRingBufferPage, defaultComm, type FtracePageResult, type FtracePageParserOptions } from './page.js';
export { parseSavedCmdlines, parseCpuStatsFile, type FtraceCpuStatsFile } from './text-files.js';
export { DEFAULT_TRACEFS, tracefsMountsIn } from './tracefs.js';

/**
 * The host's `visualize` thread: the merged timeline. Guest batches (from connect) and host
 * events (from hook) go into one Timeline; what it releases, in host-clock order, goes to the
 * console (`<host_ns> <source> <text>`) and to the --export file (JSONL or Perfetto JSON).
 *
 * workerData: {@link VisualizeConfig}. From main: 'stats', 'metrics', 'stop'. To main: 'stats'
 * ({ stats }), 'metrics' ({ metrics }), 'stopped' ({ stats }) once both producers are done and
 * the exporters are closed.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ConsoleExporter, JsonlExporter, PerfettoExporter, Timeline, TraceFieldNames, type TraceEvent, type TraceExporter } from '@vsock-rpc/trace';
import { ack, type HookBatch, type TraceAcksMessage } from '../channel.js';
import { envtestRegistry } from '../envtest-metrics.js';
import { FtraceLosses, type FtraceSourceSummary } from '../ftrace/losses.js';
import type { ConnectMessage } from './server-connect.js';

/** Configuration of the visualize thread. */
export interface VisualizeConfig {
  hookPort: MessagePort;
  connectPort: MessagePort;
  latenessNs: bigint;
  /** Print the timeline on stdout. */
  console: boolean;
  color: boolean;
  /** --export FILE: `.json` → Perfetto trace JSON, anything else → JSONL. */
  exportPath: string | undefined;
  /** Source name of the host's own events. */
  hostSource: string;
  /** Release nothing for this long after start (ns), so that guests' resends after a restart are in order. */
  startupHoldNs: bigint;
}

/** What visualize reports. */
export interface VisualizeStats {
  timeline: ReturnType<Timeline['stats']>;
  /** Events written to the export file. */
  exported: number;
  /** Drops by the console and export writers. */
  dropped: { console: number; export: number };
  /** ftrace events and losses per source (empty without ftrace events). */
  ftrace: Record<string, FtraceSourceSummary>;
  /** The status line's ftrace part ('' without ftrace). */
  ftraceStatus: string;
}

const cfg = workerData as VisualizeConfig;
const parent = parentPort!;
const outputs: TraceExporter[] = [];
const consoleOut = cfg.console ? new ConsoleExporter({ output: process.stdout, color: cfg.color }) : undefined;
if (consoleOut) outputs.push(consoleOut);
const exportOut =
  cfg.exportPath === undefined
    ? undefined
    : cfg.exportPath.endsWith('.json')
      ? new PerfettoExporter({ output: cfg.exportPath, sourceOrder: [cfg.hostSource] })
      : new JsonlExporter({ output: cfg.exportPath });
if (exportOut) outputs.push(exportOut);

// ftrace events from any source (the host's --ftrace hook, guests' --ftrace clients) are
// counted per source and CPU as they are released, and their loss reports kept (losses.ts).
const losses = new FtraceLosses(cfg.hostSource);

// A restarted server holds its timeline for a few seconds, so that what its guests resend after
// reconnecting (older than anything it has) is merged in order instead of arriving late.
const timeline = new Timeline({
  latenessNs: cfg.latenessNs,
  startupHoldNs: cfg.startupHoldNs,
  onEvents: (events: TraceEvent[]) => {
    losses.observe(events);
    for (const o of outputs) o.write(events);
  },
  // A late event is not in the ordered timeline (console), but it did arrive and it is
  // acknowledged: the export keeps it, marked `late`, so that nothing acknowledged is missing
  // from the record (packages/trace/README.md, "Delivery").
  onLate: (e: TraceEvent) => exportOut?.write([{ ...e, fields: { ...e.fields, [TraceFieldNames.late]: true } }]),
});
timeline.addSource(cfg.hostSource);

const prom = envtestRegistry({
  timeline: () => timeline.stats(),
  dropped: () => writerDrops(),
  exported: () => exportOut?.stats().written ?? 0,
  always: [cfg.hostSource],
  ftrace: () => losses,
});

let hostSeq = 0;
let hookDone = false;
let connectDone = false;
let stopping = false;

cfg.hookPort.on('message', (b: HookBatch) => {
  const n = b.ts.length;
  if (n > 0) {
    const events = new Array<TraceEvent>(n);
    if (b.kinds === undefined) {
      for (let i = 0; i < n; i++) {
        const ts = b.ts[i]!;
        events[i] = { source: cfg.hostSource, seq: hostSeq++, ts, origTs: ts, errorBoundNs: 0n, kind: 'message', text: b.texts[i]! };
      }
    } else {
      // The ftrace hook: kinds, optional texts and fields (host time already: no conversion).
      for (let i = 0; i < n; i++) {
        const ts = b.ts[i]!;
        const e: TraceEvent = { source: cfg.hostSource, seq: hostSeq++, ts, origTs: ts, errorBoundNs: 0n, kind: b.kinds[i]! };
        const text = b.texts[i];
        if (text !== undefined) e.text = text;
        const fields = b.fields?.[i];
        if (fields !== undefined) e.fields = fields;
        events[i] = e;
      }
    }
    timeline.addLocal(events, b.watermark);
  } else {
    timeline.advance(cfg.hostSource, b.watermark);
  }
  ack(cfg.hookPort, n);
  if (b.done) {
    hookDone = true;
    timeline.removeSource(cfg.hostSource);
    maybeFinish();
  }
});

cfg.connectPort.on('message', (m: ConnectMessage) => {
  for (const item of m.items) {
    switch (item.kind) {
      case 'peer':
        timeline.addSource(item.source);
        break;
      case 'peerClosed':
        timeline.removeSource(item.source);
        break;
      case 'batch':
        timeline.pushBatch(item.source, item.batch);
        break;
      case 'status':
        timeline.setAgentStatus(item.source, item.status);
        break;
    }
  }
  ack(cfg.connectPort, m.count);
  if (m.done) {
    connectDone = true;
    maybeFinish();
  }
});

// Acknowledgements to the guests (through connect): every ACK_MS, for each guest whose events
// were released (or counted late, future, overflow, duplicate) since the last tick, once the
// export file has them. Acking only after the export's write callbacks means a server killed
// with SIGKILL has every acknowledged event in its file; the agent resends the rest.
const ACK_MS = 25;
let acking = false;
let exportFailed = false;
const ackTimer = setInterval(() => {
  // A failed export file ends the run: tell main once (it stops and exits 1).
  const exportError = exportOut?.stats().error;
  if (exportError !== undefined && !exportFailed) {
    exportFailed = true;
    parent.postMessage({ type: 'exportFailed', message: exportError.message });
  }
  // Nothing is acknowledged once the export failed: the guests keep what the file does not have.
  if (acking || exportFailed) return;
  const acks = timeline.takeAcks();
  if (acks.length === 0) return;
  acking = true;
  void (exportOut ? exportOut.written() : Promise.resolve()).then(() => {
    acking = false;
    cfg.connectPort.postMessage({ type: 'traceAcks', acks } satisfies TraceAcksMessage);
  });
}, ACK_MS);

function writerDrops(): { console: number; export: number } {
  return { console: consoleOut?.stats().dropped ?? 0, export: exportOut?.stats().dropped ?? 0 };
}

function stats(): VisualizeStats {
  return {
    timeline: timeline.stats(),
    exported: exportOut?.stats().written ?? 0,
    dropped: writerDrops(),
    ftrace: losses.summary(),
    ftraceStatus: losses.statusPart(),
  };
}

let finishing = false;
function maybeFinish(): void {
  if (!stopping || !hookDone || !connectDone || finishing) return;
  finishing = true;
  void finish();
}

async function finish(): Promise<void> {
  clearInterval(ackTimer);
  timeline.close(); // releases everything still buffered, in order
  const errors: string[] = [];
  for (const o of outputs) {
    await o.close().catch((e: Error) => errors.push(e.message));
  }
  parent.postMessage({ type: 'stopped', stats: stats(), errors });
  cfg.hookPort.removeAllListeners('message');
  cfg.connectPort.removeAllListeners('message');
  cfg.hookPort.unref();
  cfg.connectPort.unref();
  parent.removeAllListeners('message');
  parent.unref();
}

parent.on('message', (m: { type: string }) => {
  if (m.type === 'stats') parent.postMessage({ type: 'stats', stats: stats() });
  else if (m.type === 'metrics') void prom.getMetricsAsJSON().then((metrics) => parent.postMessage({ type: 'metrics', metrics }));
  else if (m.type === 'stop') {
    stopping = true;
    maybeFinish();
  }
});

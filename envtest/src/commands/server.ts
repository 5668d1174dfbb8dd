/**
 * `envtest server`: the host side. Three threads as in the original — connect (ServerEngine,
 * many guests), hook (host events), visualize (merge + console/export) — plus the main thread
 * for signals, the status line, /metrics and the summary.
 */
import { MessageChannel } from 'node:worker_threads';
import type { CommandSpec } from '../args.js';
import { formatAddress, type TransportAddress } from '@vsock-rpc/vsock';
import { EnvtestError } from '../errors.js';
import { checkOutputPath } from '../output-paths.js';
import { DEFAULT_HOST_LIMITS, HOST_LIMIT_FLAGS, type HostLimits } from '../host-limits.js';
import { startMetricsServer, type MetricsServer } from '../metrics-http.js';
import { StatusLine } from '../status.js';
import { guestClaimLines, sum, timelineSummary, writeSummary, type Summary } from '../summary.js';
import { WorkerHandle, within } from '../worker-handle.js';
import type { VisualizeStats } from '../workers/visualize.js';
import { WIRE_FLAG } from '../wire-option.js';
import { FTRACE_FLAGS, startFtraceHook, type FtraceOptions } from '../ftrace/options.js';

/** How long a (re)started server holds its timeline: covers its guests' reconnect and resend. */
export const DEFAULT_STARTUP_HOLD_NS = 3_000_000_000n;

/** The default listen address: any CID, port 11451 (see README: the C++ original really used 47916). */
export const DEFAULT_LISTEN = 'vsock://any:11451';

/** Options of {@link runServer}. */
export interface ServerOptions {
  listen: string;
  /** Host hook events per second (0: none). */
  rate: number;
  /** Stop after this many seconds (0: until the signal aborts). */
  durationS: number;
  exportPath?: string;
  summaryPath?: string;
  metrics?: { host: string; port: number };
  allowCids?: number[];
  /** What one guest may cost the host (default {@link DEFAULT_HOST_LIMITS}). */
  limits?: HostLimits;
  /** Lateness bound of the merge, ns. */
  latenessNs: bigint;
  /** Release nothing for this long after start, ns (default 3 s): guests resending after a restart stay in order. */
  startupHoldNs?: bigint;
  /** Print the merged timeline on stdout. */
  console: boolean;
  /** Colour sources on the console. */
  color: boolean;
  /** Print a status line every this many ms (0: never) through `log`. */
  statusMs: number;
  /** Stops the server (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Where notices and the status line go (default: stderr). */
  log?: (line: string) => void;
  /** 'legacy': accept the C++ envtest's clients (its wire) instead of vsock-rpc agents. Default 'native'. */
  wire?: 'native' | 'legacy';
  /** --ftrace: the host's hook traces these kernel events (and makes random ones only with `rate` > 0). */
  ftrace?: FtraceOptions;
  /** Called once listening, with the bound address and the metrics URL. */
  onListening?: (info: { address: TransportAddress; metricsUrl?: string }) => void;
}

/** The command line of `envtest server`. */
export const serverSpec: CommandSpec = {
  name: 'server',
  summary: 'Host side: accept guests, merge their events with host events, print the timeline.',
  description: [
    'Threads: connect (ServerEngine, many guests) → visualize (watermark merge → console, --export)',
    '         hook (host events: random uppercase strings at random intervals; with --ftrace, kernel events) → visualize',
    'Console lines: <host_ns> <source> <text>, in host monotonic-clock order.',
    'Stops on ctrl-C/SIGTERM or after --duration: flushes the merge, closes the export, writes --summary.',
  ].join('\n'),
  options: {
    listen: {
      type: 'string',
      value: 'ADDR',
      help: `address to listen on (default ${DEFAULT_LISTEN}; also unix:///path, tcp://host:port, hybrid:///path:port)`,
    },
    metrics: { type: 'string', value: 'HOST:PORT', help: 'serve Prometheus metrics at http://HOST:PORT/metrics' },
    export: { type: 'string', value: 'FILE', help: 'also write the merged timeline: FILE.json → Perfetto trace JSON, else JSON Lines' },
    duration: { type: 'string', value: 'S', help: 'stop after S seconds (default: run until ctrl-C)' },
    summary: { type: 'string', value: 'FILE', help: 'write a JSON summary (events by source, drops, late, guest clocks) on exit' },
    'allow-cid': { type: 'string', value: 'LIST', help: 'accept only these guest CIDs (comma-separated; vsock only)' },
    rate: { type: 'string', value: 'R', help: 'host hook events per second (default 200, or 0 with --ftrace; 0: no random host events)' },
    ...FTRACE_FLAGS,
    'lateness-ms': { type: 'string', value: 'MS', help: 'longest an event waits for slower sources (default 1000)' },
    'startup-hold-ms': {
      type: 'string',
      value: 'MS',
      help: 'release nothing for MS after start, so guests resending after a server restart stay in order (default 3000)',
    },
    quiet: { type: 'boolean', short: 'q', help: 'do not print the timeline (summary, export and metrics still work)' },
    status: { type: 'boolean', help: 'print a status line every second on stderr (default: when stderr is a terminal)' },
    ...HOST_LIMIT_FLAGS,
    ...WIRE_FLAG,
  },
  examples: [
    'envtest server                                   # vsock://any:11451, timeline on stdout',
    'envtest server --listen unix:///tmp/envtest.sock --export trace.json --summary summary.json',
    'envtest server --metrics 127.0.0.1:9464 --duration 60 --quiet',
    'envtest server --wire legacy                     # the C++ clients, vsock://any:47916',
    'sudo envtest server --ftrace sched:sched_switch,ftrace:print --export trace.json   # host kernel events too',
  ],
};

/** What the connect thread reports when it stops. */
interface ConnectStopped {
  connections: number;
  rejected: number;
  channelDropped: number;
  /** --wire legacy: per source, what the server measured of its clock correction. */
  legacy?: Record<string, unknown>;
}

/**
 * Runs the server until `durationS` passes or `signal` aborts, then shuts down in order: stop
 * the hook, close the server (guests get GOAWAY), flush the merge, close the exporters.
 *
 * @returns the summary (also written to `summaryPath`).
 * @throws when the address cannot be bound (the message says why, e.g. which CIDs are bindable).
 */
export async function runServer(opts: ServerOptions): Promise<Summary> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  // Before anything runs: a run whose output cannot be written is a mistake on the command line.
  if (opts.exportPath !== undefined) await checkOutputPath('export', opts.exportPath, 'server');
  if (opts.summaryPath !== undefined) await checkOutputPath('summary', opts.summaryPath, 'server');
  const started = performance.now();
  const toVisHook = new MessageChannel();
  const toVisConnect = new MessageChannel();
  const visualize = new WorkerHandle(
    'visualize',
    new URL('../workers/visualize.js', import.meta.url),
    {
      hookPort: toVisHook.port2,
      connectPort: toVisConnect.port2,
      latenessNs: opts.latenessNs,
      startupHoldNs: opts.startupHoldNs ?? DEFAULT_STARTUP_HOLD_NS,
      console: opts.console,
      color: opts.color,
      exportPath: opts.exportPath,
      hostSource: 'host',
    },
    [toVisHook.port2, toVisConnect.port2],
  );
  // --ftrace: tracing is set up (or refused, exit code 2) before the server binds its address.
  let hook: WorkerHandle | undefined;
  if (opts.ftrace) {
    try {
      hook = await startFtraceHook(opts.ftrace, { port: toVisHook.port1, rate: opts.rate, count: 0, durationMs: 0, skewNs: 0n, flushMs: 5 }, log);
    } catch (err) {
      await visualize.worker.terminate();
      throw err;
    }
  }
  const connect = new WorkerHandle(
    'connect',
    new URL(opts.wire === 'legacy' ? '../workers/legacy-server-connect.js' : '../workers/server-connect.js', import.meta.url),
    {
      port: toVisConnect.port1,
      listen: opts.listen,
      allowCids: opts.allowCids,
      metrics: opts.metrics !== undefined,
      limits: opts.limits ?? DEFAULT_HOST_LIMITS,
    },
    [toVisConnect.port1],
  );

  const first = await connect.next('listening', 'error');
  if (first.type !== 'listening') {
    await connect.worker.terminate();
    // The ftrace hook stops cleanly: its instance must not stay behind.
    if (hook) {
      const stopped = hook.next('stopped');
      hook.post({ type: 'stop' });
      await within(stopped, 5000);
      await hook.worker.terminate();
    }
    await visualize.worker.terminate();
    throw new EnvtestError(
      typeof first['code'] === 'string' ? first['code'] : 'ERR_ENVTEST_LISTEN',
      `cannot listen on ${opts.listen}: ${String(first['message'] ?? connect.error?.message ?? 'connect thread ended')}`,
      { address: opts.listen, syscall: 'listen' },
    );
  }
  const address = first['address'] as TransportAddress;

  hook ??= new WorkerHandle(
    'hook',
    new URL('../workers/hook.js', import.meta.url),
    {
      port: toVisHook.port1,
      rate: opts.rate,
      count: 0,
      durationMs: 0,
      skewNs: 0n,
      flushMs: 10,
    },
    [toVisHook.port1],
  );
  const hostHook = hook;

  let metrics: MetricsServer | undefined;
  if (opts.metrics) {
    const fromWorker = (w: WorkerHandle) => async () => {
      const m = await w.request('metrics');
      return (m['metrics'] as object[] | undefined) ?? [];
    };
    try {
      metrics = await startMetricsServer(opts.metrics.host, opts.metrics.port, [fromWorker(connect), fromWorker(visualize)]);
    } catch (err) {
      log(`envtest server: cannot serve metrics on ${opts.metrics.host}:${opts.metrics.port}: ${(err as Error).message}`);
    }
  }
  opts.onListening?.({ address, ...(metrics ? { metricsUrl: metrics.url } : {}) });

  const status = new StatusLine();
  const statusTimer =
    opts.statusMs > 0
      ? setInterval(() => {
          void visualize.request('stats').then((m) => {
            const s = m['stats'] as VisualizeStats | undefined;
            if (s) log(status.format(s.timeline, s.dropped.console + s.dropped.export, opts.color, s.ftraceStatus));
          });
        }, opts.statusMs)
      : undefined;

  // Run until the duration passes or the signal aborts (or the export file fails: no point going on).
  let exportFailure: string | undefined;
  await new Promise<void>((resolve) => {
    if (opts.signal?.aborted) return resolve();
    void visualize.next('exportFailed').then((m) => {
      if (m.type !== 'exportFailed') return;
      exportFailure = String(m['message']);
      log(`envtest server: cannot write --export ${opts.exportPath}: ${exportFailure}; stopping`);
      clearTimeout(timer);
      resolve();
    });
    const timer = opts.durationS > 0 ? setTimeout(resolve, opts.durationS * 1000) : undefined;
    opts.signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
    // A worker that dies ends the run too, rather than leaving a half-working server.
    for (const w of [connect, hostHook, visualize]) {
      void w.exited.then(() => {
        if (w.error) log(`envtest server: ${w.name} thread failed: ${w.error.message}`);
        clearTimeout(timer);
        resolve();
      });
    }
  });

  // Shutdown, in dependency order; visualize finishes when both producers said 'done'.
  clearInterval(statusTimer);
  const hookStopped = hostHook.next('stopped');
  hostHook.post({ type: 'stop' });
  const connectStopped = connect.next('stopped');
  connect.post({ type: 'stop' });
  const visStopped = visualize.next('stopped');
  visualize.post({ type: 'stop' });
  const [h, c, v] = await Promise.all([hookStopped, connectStopped, visStopped]);
  await metrics?.close();
  await Promise.all([hostHook.exited, connect.exited, visualize.exited].map((p) => within(p, 3000)));

  const vs = v['stats'] as VisualizeStats | undefined;
  const cs = c['stats'] as ConnectStopped | undefined;
  if (!vs)
    throw new EnvtestError(
      'ERR_ENVTEST_WORKER',
      `envtest server: the visualize thread ended without its final stats (${visualize.error?.message ?? 'no error'})`,
    );
  const exportErrors = (v['errors'] as string[] | undefined) ?? [];
  const durationS = (performance.now() - started) / 1000;
  // What the host measured, apart from what each guest claims about itself (summary.ts).
  const t = timelineSummary(vs.timeline);
  const droppedBy: Record<string, number> = {
    hookChannel: Number(h['dropped'] ?? 0),
    connectChannel: cs?.channelDropped ?? 0,
    ...t.droppedBy,
    console: vs.dropped.console,
    export: vs.dropped.export,
  };
  const total = sum(t.bySource);
  for (const line of guestClaimLines(t.guestClaims)) log(line);
  const summary: Summary = {
    role: 'server',
    events: { bySource: t.bySource, total },
    dropped: sum(droppedBy),
    droppedBy,
    guestClaims: t.guestClaims,
    late: vs.timeline.late,
    clock: t.clock,
    eventsPerSecond: Math.round((total / durationS) * 10) / 10,
    durationS: Math.round(durationS * 1000) / 1000,
    ...(Object.keys(vs.ftrace).length > 0 ? { ftrace: vs.ftrace } : {}),
    details: {
      listen: formatAddress(address),
      ...(opts.ftrace ? { ftraceReorderedLate: Number(h['reorderedLate'] ?? 0) } : {}),
      released: vs.timeline.released,
      exported: vs.exported,
      forced: vs.timeline.forced,
      ...t.measured,
      rejectedPeers: cs?.rejected ?? 0,
      lateBySource: t.lateBySource,
      ...(opts.wire === 'legacy' ? { wire: 'legacy', legacy: cs?.legacy ?? {} } : {}),
    },
  };
  if (opts.summaryPath) await writeSummary(opts.summaryPath, summary);
  // A timeline that could not be written is a failed run (exit 1), whatever else went well.
  const exportError = exportFailure ?? exportErrors[0];
  if (exportError !== undefined) {
    throw new EnvtestError('ERR_ENVTEST_EXPORT', `cannot write --export ${opts.exportPath}: ${exportError} (${vs.dropped.export} events not written)`);
  }
  return summary;
}

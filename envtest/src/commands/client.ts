/**
 * `envtest client`: the guest side. Two threads as in the original — connect (trace agent:
 * ClientEngine + clock sync, converts timestamps, sends batches) and hook (random events).
 */
import { hostname } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import type { TraceAgentStats } from '@vsock-rpc/trace';
import { toAddress } from '@vsock-rpc/vsock';
import type { CommandSpec } from '../args.js';
import { watchConnect } from '../connect-wait.js';
import { EnvtestError } from '../errors.js';
import { checkOutputPath } from '../output-paths.js';
import { summaryClock, writeSummary, type Summary } from '../summary.js';
import { WorkerHandle, within } from '../worker-handle.js';
import { WIRE_FLAG } from '../wire-option.js';
import { FTRACE_FLAGS, startFtraceHook, type FtraceOptions } from '../ftrace/options.js';
import type { FtraceStats } from '@vsock-rpc/trace';
import type { FtraceSourceSummary } from '../ftrace/losses.js';

/** The default target: the host (CID 2), port 11451 (see README: the C++ original really used 47916). */
export const DEFAULT_CONNECT = 'vsock://2:11451';

/** Options of {@link runClient}. */
export interface ClientOptions {
  connect: string;
  name: string;
  /** Stop after this many events (0: no limit). */
  count: number;
  /** Events per second. */
  rate: number;
  /** Stop after this many seconds (0: no limit). */
  durationS: number;
  /** Shift this guest's clock (to see the conversion at work on one machine). */
  clockSkewNs: bigint;
  summaryPath?: string;
  /**
   * How long to wait for the server, s (default 30; 0: one attempt). Each retry prints a line
   * through `log`; refused or missing is retried, anything else fails at once.
   */
  connectTimeoutS?: number;
  /**
   * Multiply every protocol time limit by this (a slow guest: nested or emulated, overcommitted):
   * one connection attempt, the handshake, the first clock sync, keepalive, the wait for the
   * server's acknowledgements on exit. Default 1.
   */
  timeoutScale?: number;
  /** Stops the client (SIGINT/SIGTERM): the hook stops, what it made is flushed. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** 'legacy': talk to the C++ envtest's server (its wire). Default 'native'. */
  wire?: 'native' | 'legacy';
  /** --ftrace: the hook traces these kernel events (and makes random ones only with `rate` > 0). */
  ftrace?: FtraceOptions;
  /** Called once connected and the clock is synced. */
  onReady?: () => void;
}

/** A default source name: host name and pid, so that several clients on one guest differ. */
export function defaultClientName(): string {
  return `${hostname()}-${process.pid}`;
}

/** The command line of `envtest client`. */
export const clientSpec: CommandSpec = {
  name: 'client',
  summary: 'Guest side: generate events, convert their timestamps to the host clock, send them.',
  description: [
    'Threads: hook (random uppercase strings of 1..65 chars at random intervals, monotonic timestamps;',
    "               with --ftrace, this kernel's events from a tracefs instance of its own)",
    '         → connect (trace agent: ClientEngine, clock sync with the host, batches) → server',
    'Exits 0 once --count events are sent and flushed, after --duration, or on ctrl-C.',
  ].join('\n'),
  options: {
    connect: { type: 'string', value: 'ADDR', help: `server address (default ${DEFAULT_CONNECT}; also unix:///path, tcp://host:port, hybrid:///path:port)` },
    name: { type: 'string', value: 'NAME', help: 'source name on the timeline (default <hostname>-<pid>)' },
    count: { type: 'string', value: 'N', help: 'stop after N events (default: no limit)' },
    rate: { type: 'string', value: 'R', help: 'random events per second, at random intervals (default 200; with --ftrace none unless given)' },
    ...FTRACE_FLAGS,
    duration: { type: 'string', value: 'S', help: 'stop after S seconds (default: no limit)' },
    'timeout-scale': {
      type: 'string',
      value: 'N',
      help: 'multiply every time limit by N for a slow guest (connect attempt, handshake, clock sync, keepalive, the wait for acknowledgements); default 1',
    },
    'connect-timeout': {
      type: 'string',
      value: 'S',
      help: 'wait at most S seconds for the server, retrying with a line on stderr each time (default 30 × --timeout-scale; 0: try once)',
    },
    'clock-skew-ns': {
      type: 'string',
      value: 'N',
      help: "shift this client's clock by N ns, negative allowed (--clock-skew-ns -3000000000); default 0: the host still sees host time",
    },
    summary: { type: 'string', value: 'FILE', help: 'write a JSON summary (events sent, drops, clock estimate) on exit' },
    ...WIRE_FLAG,
  },
  examples: [
    'envtest client                                   # vsock://2:11451, until ctrl-C',
    'envtest client --connect unix:///tmp/envtest.sock --count 2000 --rate 1000',
    'envtest client --clock-skew-ns -5000000000 --duration 10 --connect-timeout 120',
    'envtest client --wire legacy                     # to the C++ server, vsock://2:47916',
    "sudo envtest client --ftrace sched:sched_switch --ftrace ftrace:print   # this guest's kernel events",
  ],
};

/**
 * Runs the client until `count` events are sent (or `durationS`, or the signal), flushes, and
 * returns the summary (also written to `summaryPath`).
 * @throws when the server cannot be reached.
 */
export async function runClient(opts: ClientOptions): Promise<Summary> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  if (opts.summaryPath !== undefined) await checkOutputPath('summary', opts.summaryPath, 'client');
  const address = toAddress(opts.connect);
  const started = performance.now();
  const link = new MessageChannel();
  // --ftrace: tracing is set up (or refused, exit code 2) before connecting; the hook delivers
  // from the moment the agent is connected (what the kernel recorded before is counted apart).
  const ftraceHook = opts.ftrace
    ? await startFtraceHook(
        opts.ftrace,
        {
          port: link.port1,
          rate: opts.rate,
          count: opts.count,
          durationMs: opts.durationS * 1000,
          skewNs: opts.clockSkewNs,
          flushMs: 5,
          waitForStart: true,
        },
        log,
      )
    : undefined;
  const stopFtrace = async (): Promise<void> => {
    if (!ftraceHook) return;
    const stopped = ftraceHook.next('stopped');
    ftraceHook.post({ type: 'stop' });
    await within(stopped, 5000);
    await ftraceHook.worker.terminate();
  };
  const connect = new WorkerHandle(
    'connect',
    new URL(opts.wire === 'legacy' ? '../workers/legacy-client-connect.js' : '../workers/client-connect.js', import.meta.url),
    {
      port: link.port2,
      connect: opts.connect,
      name: opts.name,
      clockSkewNs: opts.clockSkewNs,
      connectTimeoutMs: 5000 * (opts.timeoutScale ?? 1),
      timeoutScale: opts.timeoutScale ?? 1,
      // --wire legacy: the worker waits for the server itself (see below).
      ...(opts.wire === 'legacy' ? { legacyWaitMs: (opts.connectTimeoutS ?? 30) * 1000 } : {}),
    },
    [link.port2],
  );
  let first;
  try {
    // The original server accepts ONE connection: watchConnect's probe dial would use it up, so
    // with --wire legacy the connect thread retries its own dial (legacy-client-connect.ts).
    if (opts.wire === 'legacy') {
      const onAbort = () => connect.post({ type: 'abortConnect' });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      first = await connect.next('ready', 'error').finally(() => opts.signal?.removeEventListener('abort', onAbort));
    } else
      first = await watchConnect(connect.next('ready', 'error'), address, {
        timeoutMs: (opts.connectTimeoutS ?? 30) * 1000,
        log: (l) => log(`envtest client: ${l}`),
        abort: () => connect.post({ type: 'abortConnect' }),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
  } catch (err) {
    await connect.worker.terminate();
    await stopFtrace();
    throw err;
  }
  if (first.type !== 'ready') {
    await connect.worker.terminate();
    await stopFtrace();
    throw new EnvtestError(
      typeof first['code'] === 'string' ? first['code'] : 'ERR_ENVTEST_CONNECT',
      `cannot connect to ${opts.connect}: ${String(first['message'] ?? connect.error?.message ?? 'connect thread ended')}`,
      { address: opts.connect, syscall: 'connect' },
    );
  }
  opts.onReady?.();
  ftraceHook?.post({ type: 'start' });
  const hook =
    ftraceHook ??
    new WorkerHandle(
      'hook',
      new URL('../workers/hook.js', import.meta.url),
      {
        port: link.port1,
        rate: opts.rate,
        count: opts.count,
        durationMs: opts.durationS * 1000,
        skewNs: opts.clockSkewNs,
        flushMs: 10,
      },
      [link.port1],
    );

  const hookStopped = hook.next('stopped');
  const connectStopped = connect.next('stopped');
  const onAbort = () => hook.post({ type: 'stop' });
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const h = await hookStopped;
  const c = await connectStopped;
  opts.signal?.removeEventListener('abort', onAbort);
  await Promise.all([hook.exited, connect.exited].map((p) => within(p, 3000)));

  const stats = c['stats'] as (TraceAgentStats & { connects: number }) | undefined;
  if (!stats)
    throw new EnvtestError(
      'ERR_ENVTEST_WORKER',
      `envtest client: the connect thread ended without its final stats (${connect.error?.message ?? String(c['message'] ?? '')})`,
    );
  if (c['error']) log(`envtest client: ${String(c['error'])}`);
  const durationS = (performance.now() - started) / 1000;
  const droppedBy = { hookChannel: Number(h['dropped'] ?? 0), agent: stats.dropped };
  const ftrace = h['ftrace'] as FtraceStats | undefined;
  // events = what the server acknowledged; what it did not is either dropped here (counted by
  // where) or unconfirmed (sent, never acknowledged): generated = events + dropped + unconfirmed.
  const delivered = stats.acknowledged;
  if (stats.unconfirmed > 0 || stats.dropped > 0) {
    log(`envtest client: ${delivered} events acknowledged by the server, ${stats.dropped} dropped here, ${stats.unconfirmed} sent but never acknowledged`);
  }
  const summary: Summary = {
    role: 'client',
    events: { bySource: { [opts.name]: delivered }, total: delivered },
    dropped: droppedBy.hookChannel + droppedBy.agent,
    droppedBy,
    unconfirmed: stats.unconfirmed,
    late: 0,
    clock: stats.clock ? { [opts.name]: summaryClock(stats.clock) } : {},
    eventsPerSecond: Math.round((delivered / durationS) * 10) / 10,
    durationS: Math.round(durationS * 1000) / 1000,
    ...(ftrace ? { ftrace: { [opts.name]: clientFtraceSummary(ftrace) } } : {}),
    details: {
      connect: opts.connect,
      ...(ftrace ? { ftraceReorderedLate: Number(h['reorderedLate'] ?? 0), ftraceBeforeConnect: Number(h['beforeStart'] ?? 0) } : {}),
      generated: Number(h['generated'] ?? 0),
      emitted: stats.emitted,
      sent: stats.sent,
      resent: stats.resent,
      acknowledged: stats.acknowledged,
      unconfirmed: stats.unconfirmed,
      connects: stats.connects,
      clamped: stats.clamped,
      batches: stats.batches,
      heartbeats: stats.heartbeats,
      clockSkewNs: opts.clockSkewNs.toString(),
      // The legacy wire has no acknowledgements: events.total counts events written to the server.
      ...(opts.wire === 'legacy' ? { wire: 'legacy', clockSyncs: (stats as { clockSyncs?: number }).clockSyncs ?? 0 } : {}),
    },
  };
  if (opts.summaryPath) await writeSummary(opts.summaryPath, summary);
  return summary;
}

/** The client's own reader counters in the summary's ftrace form (measured by this process). */
function clientFtraceSummary(f: FtraceStats): FtraceSourceSummary {
  return {
    losses: 'measured',
    events: {},
    total: f.events,
    lost: f.lost,
    badPages: f.badPages,
    perCpu: f.perCpu.map((c) => ({
      cpu: c.cpu,
      events: c.events,
      lost: c.lost,
      overrun: c.overrun,
      dropped: c.dropped,
      missed: c.missed,
      badPages: c.badPages,
      undecodable: c.undecodable,
      arrived: c.events,
    })),
  };
}

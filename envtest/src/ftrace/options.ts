/**
 * The --ftrace options of `envtest server` and `envtest client`, and the start of the ftrace
 * hook thread (which reports whether tracing could be set up before anything else runs).
 */
import type { MessagePort } from 'node:worker_threads';
import { FtraceError, parseFtraceEventSpecs } from '@vsock-rpc/trace';
import { escapeText } from '@vsock-rpc/wire';
import { numberOpt, stringListOpt, UsageError, type OptionSpec, type ParsedValues } from '../args.js';
import { TraceSetupError } from '../errors.js';
import { WorkerHandle } from '../worker-handle.js';
import type { FtraceHookConfig } from '../workers/ftrace-hook.js';

/** What --ftrace asks for. */
export interface FtraceOptions {
  /** Event specs as given (each may hold several, comma-separated). */
  events: string[];
  /** --ftrace-buffer-kb: per-CPU ring buffer, KiB. */
  bufferKb?: number;
}

/** The flags, shared by both commands' specs. */
export const FTRACE_FLAGS: Record<string, OptionSpec> = {
  ftrace: {
    type: 'string',
    value: 'EVENTS',
    multiple: true,
    help: 'trace these kernel events instead of random strings (root; repeatable or comma-separated: sched:sched_switch,irq:*,sched:sched_wakeup[pid>1]; ftrace:print = trace_marker lines)',
  },
  'ftrace-buffer-kb': { type: 'string', value: 'KB', help: 'with --ftrace: ring buffer per CPU, KiB (default 4096)' },
};

/**
 * --ftrace and --ftrace-buffer-kb, checked (the spec syntax here; whether the events exist, in
 * the hook thread once tracefs is open). `undefined` without --ftrace.
 * @throws UsageError for a malformed spec, or --ftrace-buffer-kb without --ftrace.
 */
export function ftraceOpt(values: ParsedValues, command: string): FtraceOptions | undefined {
  const events = stringListOpt(values, 'ftrace');
  const bufferKb = numberOpt(values, 'ftrace-buffer-kb', { min: 1, max: 1 << 20, integer: true });
  if (events === undefined) {
    if (bufferKb !== undefined) throw new UsageError('--ftrace-buffer-kb needs --ftrace', command);
    return undefined;
  }
  try {
    parseFtraceEventSpecs(events);
  } catch (err) {
    if (err instanceof FtraceError) throw new UsageError(`--ftrace: ${err.message}`, command);
    throw err;
  }
  return { events, ...(bufferKb !== undefined ? { bufferKb } : {}) };
}

/** What the hook thread needs besides the ftrace options. */
export interface FtraceHookStart {
  port: MessagePort;
  rate: number;
  count: number;
  durationMs: number;
  skewNs: bigint;
  flushMs: number;
  /** Deliver nothing until 'start' is posted (see FtraceHookConfig.waitForStart). */
  waitForStart?: boolean;
}

/**
 * Starts the ftrace hook thread and waits until tracing runs; says where (`log`): the events,
 * the instance and its trace_marker.
 * @throws TraceSetupError (exit code 2) when tracing cannot be set up: the reader's message,
 *   which names the event and the tracefs path and says what to do.
 */
export async function startFtraceHook(opts: FtraceOptions, start: FtraceHookStart, log?: (line: string) => void): Promise<WorkerHandle> {
  const config: FtraceHookConfig = { ...start, events: opts.events, ...(opts.bufferKb !== undefined ? { bufferKb: opts.bufferKb } : {}) };
  const hook = new WorkerHandle('hook', new URL('../workers/ftrace-hook.js', import.meta.url), config, [start.port]);
  const first = await hook.next('ready', 'error');
  if (first.type === 'ready') {
    log?.(`envtest: tracing ${(first['events'] as string[]).join(',')} in ${String(first['instance'])} (markers: ${String(first['marker'])})`);
    return hook;
  }
  await hook.worker.terminate();
  const code = typeof first['code'] === 'string' ? first['code'] : 'ERR_ENVTEST_FTRACE';
  const message = String(first['message'] ?? hook.error?.message ?? 'the hook thread ended');
  throw new TraceSetupError(
    code,
    `cannot trace ${opts.events.map((e) => escapeText(e, 200)).join(',')}: ${message}`,
    typeof first['path'] === 'string' ? first['path'] : undefined,
  );
}

/**
 * {@link FtraceSource}: kernel events from this machine's ftrace, through a tracefs instance of
 * its own, read from the binary per-CPU ring buffers (`per_cpu/cpuN/trace_pipe_raw`) without
 * blocking, parsed per the kernel's own header and format files.
 * @packageDocumentation
 */
import { closeSync, constants, openSync, readdirSync, readFileSync, readSync, rmdirSync } from 'node:fs';
import { escapeText } from '@vsock-rpc/wire';
import { CommCache } from './comm-cache.js';
import { FtraceError } from './errors.js';
import { enableSpecs, readFormats, resolveSpecs } from './events.js';
import { parseHeaderEvent, parseHeaderPage } from './header.js';
import {
  checkInstanceName,
  claimInstanceName,
  createInstance,
  defaultInstanceName,
  releaseInstanceName,
  removeInstance,
  removeStaleInstances,
  writeControl,
} from './instance.js';
import { FtracePageParser } from './page.js';
import { normaliseEventSpecs } from './spec.js';
import { parseCpuStatsFile, type FtraceCpuStatsFile } from './text-files.js';
import { checkLockdown, checkRoot, locateTracefs } from './tracefs.js';
import type { FtraceCpuStats, FtraceEvent, FtraceSourceOptions, FtraceStats } from './types.js';

const DEFAULT_BUFFER_KB = 4096;
const MAX_BUFFER_KB = 1 << 20;
const DEFAULT_MAX_PAGES_PER_POLL = 256;
/** Distinct warnings kept (each said once). */
const MAX_WARNING_KINDS = 64;

interface CpuReader {
  cpu: number;
  fd: number;
  statsPath: string;
  baseline: FtraceCpuStatsFile;
  events: number;
  missed: number;
  missedUncounted: number;
  badPages: number;
  undecodable: number;
}

function defaultWarning(message: string): void {
  process.emitWarning(message, 'FtraceWarning');
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The kernel's per-CPU stats, or zeros when the file cannot be read. */
function readCpuStats(path: string): FtraceCpuStatsFile {
  try {
    return parseCpuStatsFile(readFileSync(path, 'utf8'));
  } catch {
    return { entries: 0, overrun: 0, commitOverrun: 0, dropped: 0, read: 0 };
  }
}

/**
 * Kernel events through a tracefs instance of its own. Open with {@link FtraceSource.open},
 * call {@link FtraceSource.poll} as often as wanted (it never blocks), {@link FtraceSource.close}
 * at the end (it drains what is left and removes the instance).
 */
export class FtraceSource {
  /** Absolute path of this instance's trace_marker: lines written there arrive as `ftrace:print` events. */
  readonly markerPath: string;
  /** Absolute path of this source's instance directory. */
  readonly instancePath: string;
  /** The tracefs root in use. */
  readonly tracefsPath: string;
  /** The instance's name (under instances/). */
  readonly instanceName: string;
  /** The events enabled, as `system:name` (markers as `ftrace:print`). */
  readonly eventNames: readonly string[];

  private readonly parser: FtracePageParser;
  private readonly cpus: CpuReader[];
  private readonly page: Buffer;
  private readonly comm: CommCache;
  private readonly maxPages: number;
  private readonly warn: (message: string) => void;
  private readonly warned = new Set<string>();
  private finalStats: FtraceStats | undefined;
  private closed = false;
  private readonly onExit = (): void => this.closeNow();

  private constructor(init: {
    root: string;
    instance: string;
    name: string;
    parser: FtracePageParser;
    cpus: CpuReader[];
    pageSize: number;
    eventNames: string[];
    maxPages: number;
    warn: (message: string) => void;
    comm: CommCache;
  }) {
    this.tracefsPath = init.root;
    this.instancePath = init.instance;
    this.instanceName = init.name;
    this.markerPath = `${init.instance}/trace_marker`;
    this.parser = init.parser;
    this.cpus = init.cpus;
    this.page = Buffer.alloc(init.pageSize);
    this.eventNames = init.eventNames;
    this.maxPages = init.maxPages;
    this.warn = init.warn;
    this.comm = init.comm;
    // A process that exits without close() still removes its instance (a crash cannot: the next open does).
    process.once('exit', this.onExit);
  }

  /**
   * Checks root, tracefs (mounting it if needed) and lockdown, removes instances of dead
   * `vsock-rpc-<pid>` owners, creates and configures the instance (trace_clock mono, buffer
   * size, events and filters), opens the per-CPU buffers and starts tracing.
   * @throws FtraceError with the code of what is wrong, naming the event or path
   */
  static async open(opts: FtraceSourceOptions): Promise<FtraceSource> {
    const specs = normaliseEventSpecs(opts.events);
    const bufferKb = opts.bufferKb ?? DEFAULT_BUFFER_KB;
    if (!Number.isInteger(bufferKb) || bufferKb < 1 || bufferKb > MAX_BUFFER_KB) {
      throw new FtraceError('INSTANCE_FAILED', `ftrace buffer size ${String(bufferKb)} KiB per CPU is out of range: use an integer from 1 to ${MAX_BUFFER_KB}`);
    }
    const maxPages = opts.maxPagesPerPoll ?? DEFAULT_MAX_PAGES_PER_POLL;
    if (!Number.isInteger(maxPages) || maxPages < 1)
      throw new FtraceError('INSTANCE_FAILED', `maxPagesPerPoll must be a positive integer, not ${String(maxPages)}`);
    const name = opts.instance ?? defaultInstanceName();
    checkInstanceName(name);
    const warned = new Set<string>();
    const sink = opts.onWarning ?? defaultWarning;
    const warn = (message: string): void => {
      if (warned.size < MAX_WARNING_KINDS && !warned.has(message)) {
        warned.add(message);
        sink(escapeText(message));
      }
    };

    checkRoot(opts.tracefs ?? '/sys/kernel/tracing/instances');
    checkLockdown();
    const { root } = await locateTracefs(opts.tracefs);
    const { resolved, wantsMarkers } = resolveSpecs(root, specs);
    const markers = (opts.markers ?? true) || wantsMarkers;
    const eventList = [...new Set(resolved.flatMap((r) => r.events))];
    const formats = readFormats(`${root}/events`, eventList, warn);
    // The marker format is read even when markers are off: its events are then skipped, not counted as undecodable.
    const printFormat = readFormats(`${root}/events`, ['ftrace/print'], markers ? warn : () => {})[0];
    // Without these files (very old kernels) the parsers' defaults are the layout of every 64-bit kernel.
    const layout = parseHeaderPage(readOptional(`${root}/events/header_page`));
    const header = parseHeaderEvent(readOptional(`${root}/events/header_event`));

    removeStaleInstances(root, warn);
    const instance = createInstance(root, name);
    claimInstanceName(name);
    const cpus: CpuReader[] = [];
    try {
      writeControl(`${instance}/tracing_on`, '0', 'INSTANCE_FAILED', 'stopping the new instance while it is set up');
      writeControl(`${instance}/trace_clock`, 'mono', 'INSTANCE_FAILED', 'setting trace_clock to mono (CLOCK_MONOTONIC, shared with the clock sync)');
      writeControl(`${instance}/buffer_size_kb`, String(bufferKb), 'INSTANCE_FAILED', `allocating ${bufferKb} KiB of ring buffer per CPU`);
      enableSpecs(instance, resolved);
      const cpuNames = readdirSync(`${instance}/per_cpu`)
        .map((d) => /^cpu(\d+)$/.exec(d))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b);
      for (const cpu of cpuNames) {
        const dir = `${instance}/per_cpu/cpu${cpu}`;
        let fd: number;
        try {
          fd = openSync(`${dir}/trace_pipe_raw`, constants.O_RDONLY | constants.O_NONBLOCK);
        } catch (e) {
          throw new FtraceError('INSTANCE_FAILED', `cannot open ${dir}/trace_pipe_raw: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
            path: `${dir}/trace_pipe_raw`,
            cause: e,
          });
        }
        cpus.push({
          cpu,
          fd,
          statsPath: `${dir}/stats`,
          baseline: readCpuStats(`${dir}/stats`),
          events: 0,
          missed: 0,
          missedUncounted: 0,
          badPages: 0,
          undecodable: 0,
        });
      }
      const comm = new CommCache(`${root}/saved_cmdlines`);
      const all = printFormat ? [...formats, printFormat] : formats;
      const parser = new FtracePageParser(markers ? all : formats, {
        layout,
        header,
        comm: comm.lookup,
        ignoreIds: !markers && printFormat ? [printFormat.id] : [],
      });
      writeControl(`${instance}/tracing_on`, '1', 'INSTANCE_FAILED', 'starting tracing');
      const eventNames = [...eventList.map((e) => e.replace('/', ':')), ...(markers ? ['ftrace:print'] : [])];
      const source = new FtraceSource({ root, instance, name, parser, cpus, pageSize: layout.pageSize, eventNames, maxPages, warn, comm });
      return source;
    } catch (e) {
      for (const c of cpus) closeSync(c.fd);
      await removeInstance(instance);
      releaseInstanceName(name);
      throw e;
    }
  }

  /**
   * Reads every page available now on every CPU (at most `maxPagesPerPoll` per CPU), parses
   * them and returns the events, each CPU's in timestamp order. Never blocks; never throws on
   * bad data (it is counted, and each kind of problem reported once).
   */
  poll(): FtraceEvent[] {
    const out: FtraceEvent[] = [];
    if (this.closed) return out;
    this.readAll(out, this.maxPages);
    return out;
  }

  private readAll(out: FtraceEvent[], maxPages: number): void {
    this.comm.beginPoll();
    for (const c of this.cpus) {
      for (let n = 0; n < maxPages; n++) {
        let got: number;
        try {
          got = readSync(c.fd, this.page, 0, this.page.length, null);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EINTR') continue;
          if (code !== 'EAGAIN') this.warnOnce(`read-${code}`, `ftrace: reading cpu${c.cpu}'s trace_pipe_raw failed (${code ?? String(e)})`);
          break;
        }
        if (got === 0) break;
        const r = this.parser.parse(this.page, c.cpu, out, got);
        c.events += r.events;
        c.missed += r.missed;
        if (r.missedUncounted) c.missedUncounted++;
        c.undecodable += r.undecodable;
        if (r.undecodableId !== undefined)
          this.warnOnce(`id-${r.undecodableId}`, `ftrace: events with id ${r.undecodableId} have no known format (or are shorter than it) and are skipped`);
        if (r.error !== undefined) {
          c.badPages++;
          this.warnOnce(`page-${r.error.replace(/\d+/g, 'N')}`, `ftrace: skipped a ring-buffer page of cpu${c.cpu}: ${r.error}`);
        }
      }
    }
  }

  private warnOnce(kind: string, message: string): void {
    if (this.warned.has(kind) || this.warned.size >= MAX_WARNING_KINDS) return;
    this.warned.add(kind);
    this.warn(message);
  }

  /** Loss and volume counters, per CPU and in total (read from the kernel's stats files while open). */
  stats(): FtraceStats {
    if (this.finalStats) return this.finalStats;
    const perCpu: FtraceCpuStats[] = this.cpus.map((c) => {
      const now = readCpuStats(c.statsPath);
      const overrun = Math.max(0, now.overrun - c.baseline.overrun);
      const dropped = Math.max(0, now.commitOverrun - c.baseline.commitOverrun) + Math.max(0, now.dropped - c.baseline.dropped);
      return {
        cpu: c.cpu,
        events: c.events,
        overrun,
        dropped,
        missed: c.missed,
        badPages: c.badPages,
        missedUncounted: c.missedUncounted,
        undecodable: c.undecodable,
        lost: Math.max(overrun, c.missed) + dropped,
      };
    });
    const sum = (k: 'events' | 'lost' | 'badPages' | 'undecodable'): number => perCpu.reduce((a, c) => a + c[k], 0);
    return { events: sum('events'), lost: sum('lost'), badPages: sum('badPages'), undecodable: sum('undecodable'), perCpu };
  }

  /**
   * Stops tracing, drains what is left in the buffers (returned), closes the buffers and removes
   * the instance. Idempotent: later calls return [].
   */
  async close(): Promise<FtraceEvent[]> {
    if (this.closed) return [];
    const out: FtraceEvent[] = [];
    try {
      writeControl(`${this.instancePath}/tracing_on`, '0', 'INSTANCE_FAILED', 'stopping tracing');
    } catch (e) {
      this.warn((e as Error).message);
    }
    this.readAll(out, Number.MAX_SAFE_INTEGER);
    this.finalStats = this.stats();
    this.closed = true;
    process.removeListener('exit', this.onExit);
    for (const c of this.cpus) closeSync(c.fd);
    const failure = await removeInstance(this.instancePath);
    releaseInstanceName(this.instanceName);
    if (failure !== undefined) this.warn(`ftrace: cannot remove the instance ${this.instancePath} (${failure}): remove it with "rmdir ${this.instancePath}"`);
    return out;
  }

  /** At process exit without close(): release the buffers and remove the instance, synchronously. */
  private closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.cpus) {
      try {
        closeSync(c.fd);
      } catch {
        // already closed
      }
    }
    try {
      writeControl(`${this.instancePath}/tracing_on`, '0', 'INSTANCE_FAILED', 'stopping tracing');
      // No EBUSY retry here: this process just closed the only buffers it held.
      rmdirSync(this.instancePath);
    } catch {
      // the next open removes it (its pid is dead by then)
    }
  }
}

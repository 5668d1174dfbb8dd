/**
 * The nested, host-to-guest tier: inside the usual TCG guest (the "outer" guest, which plays the
 * vsock host, CID 2) a second QEMU boots an "inner" guest with `-device vhost-vsock-pci,guest-cid=3`,
 * so the two talk over a real virtio-vsock/vhost-vsock link between two kernels, as in the original
 * demo. It is slow (TCG in TCG: the inner kernel boots in about a minute, `node -e 0` takes minutes),
 * so it is opt-in: `npm run test:nested`.
 */
import { guestPlan, runInGuest, WATCHDOG, type RunInGuestResult } from '../harness.js';

/** The options of {@link runNested}. */
export interface RunNestedOptions {
  /** Run in order in the inner guest (CID `guestCid`); $VM_RESULTS_DIR there is collected as `inner.results`. */
  innerCommands: string[];
  /**
   * Run in the background in the outer guest (the vsock host side, CID 2 as the inner guest sees it),
   * started before the inner guest boots and stopped (SIGTERM) once it has powered off. What they
   * write to $VM_RESULTS_DIR comes back as `host.results`. They also get $VM_INNER_RESULTS_DIR:
   * the inner guest's $VM_RESULTS_DIR as the outer guest sees it (a host side can wait there for
   * a file the inner guest writes, e.g. "the client is done").
   */
  hostCommands?: string[];
  /**
   * How long the host commands may go on after the inner guest has powered off, to finish on
   * their own (e.g. a server writing its summary) before they get SIGTERM. Taken out of
   * `timeoutMs`. Default 0.
   */
  hostWaitMs?: number;
  /** Whole-run limit (outer guest included). Default 20 minutes. */
  timeoutMs?: number;
  /** Environment for the commands of both guests. */
  env?: Record<string, string>;
  /** The inner guest's CID. Default 3. */
  guestCid?: number;
  /** Default 1024. */
  innerMemoryMb?: number;
  /** Default 1: the outer guest's two vCPUs are already emulated. */
  innerCpus?: number;
  /** Default 2048 + innerMemoryMb, so the inner guest's RAM fits inside the outer one. */
  outerMemoryMb?: number;
}

/** What {@link runNested} resolves to. */
export interface RunNestedResult {
  inner: { results: Record<string, unknown>; exitCodes: number[]; console: string; durationMs: number };
  host: { results: Record<string, unknown>; exitCodes: (number | null)[] };
  /** The outer guest's console; the inner console is echoed into it with an `[inner] ` prefix. */
  console: string;
  durationMs: number;
}

/** Where the outer guest keeps the inner guest's share (in its own /tmp tmpfs). */
const INNER_SHARE = '/tmp/vm-nested';

/** Margin the outer guest keeps after the inner deadline, to report back before it is killed itself. */
const OUTER_MARGIN_MS = 60_000;

interface NestedReport {
  inner: { results: Record<string, unknown>; exitCodes: number[]; console: string; durationMs: number; timedOut: boolean; errors: string[] };
  hostExitCodes: (number | null)[];
}

/**
 * Boots an outer guest that boots an inner guest with a vhost-vsock-pci device (`guest-cid=3`
 * unless told otherwise), runs `hostCommands` in the outer guest in the background and
 * `innerCommands` in order in the inner one, then powers both off.
 *
 * Rejects when the outer guest fails or times out, when the inner guest times out, or when it
 * stops before running every inner command; each message carries the relevant console tail.
 */
export async function runNested(opts: RunNestedOptions): Promise<RunNestedResult> {
  const { timeoutMs = 20 * 60_000, innerMemoryMb = 1024, innerCpus = 1, guestCid = 3, hostWaitMs = 0 } = opts;
  const plan = guestPlan({
    commands: opts.innerCommands,
    env: opts.env,
    memoryMb: innerMemoryMb,
    cpus: innerCpus,
    shareDir: INNER_SHARE,
    // The guest side of virtio-vsock; the outer guest already has vhost_vsock for the host side.
    modules: ['vmw_vsock_virtio_transport'],
    extraQemuArgs: ['-device', `vhost-vsock-pci,guest-cid=${guestCid}`],
  });
  const job = {
    shareDir: INNER_SHARE,
    files: plan.files,
    qemu: plan.qemu,
    args: plan.args,
    watchdog: WATCHDOG,
    timeoutMs: Math.max(timeoutMs - OUTER_MARGIN_MS - hostWaitMs, 30_000),
    hostCommands: opts.hostCommands ?? [],
    hostWaitMs,
  };
  const outer: RunInGuestResult = await runInGuest({
    commands: ['exec node test/vm/nested/inner-runner.mjs'],
    env: { ...opts.env, VSOCK_RPC_NESTED_JOB: JSON.stringify(job) },
    timeoutMs,
    memoryMb: opts.outerMemoryMb ?? 2048 + innerMemoryMb,
  });
  const tail = () => outer.console.slice(-4000);
  const { nested, ...hostResults } = outer.results;
  const report = nested as NestedReport | undefined;
  if (!report) throw new Error(`runNested: the outer guest did not report (exit ${outer.exitCodes[0]}); console tail:\n${tail()}`);
  if (report.inner.timedOut) throw new Error(`runNested: inner guest timed out after ${job.timeoutMs} ms; console tail:\n${tail()}`);
  if (report.inner.errors.length) throw new Error(`runNested: inner results are not JSON: ${report.inner.errors.join('; ')}`);
  if (report.inner.exitCodes.length !== opts.innerCommands.length) {
    throw new Error(`runNested: inner guest stopped after ${report.inner.exitCodes.length} of ${opts.innerCommands.length} commands; console tail:\n${tail()}`);
  }
  return {
    inner: { results: report.inner.results, exitCodes: report.inner.exitCodes, console: report.inner.console, durationMs: report.inner.durationMs },
    host: { results: hostResults, exitCodes: report.hostExitCodes },
    console: outer.console,
    durationMs: outer.durationMs,
  };
}

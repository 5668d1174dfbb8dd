// The ftrace workload's guest run (issue 14): one QEMU guest boot (test/vm/harness.ts, loaded as
// vm/guest.ts does) in which, at each load level, the same generated load (two processes
// ping-ponging a byte over pipes: sched switches at a paced or unpaced rate) is recorded at the
// same time by `trace-cmd record` (top-level buffer) and by `envtest server --ftrace` (a tracefs
// instance of its own), both on sched:sched_switch with the same per-CPU buffer size. Each
// reader's CPU time is the `times` of the subshell that waited for it (its whole process tree);
// its losses are what the kernel's per-CPU stats say it lost (trace-cmd prints them at the end of
// a recording; envtest's summary has them per CPU). tracefs and trace-cmd are only ever used
// inside the guest.
import { existsSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

const repo = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const HARNESS = repo('test/vm/harness.ts');
const ENVTEST = repo('envtest/dist/cli.js');

/** One load level: round trips per second (0: as fast as the guest goes). */
export interface FtraceLevel {
  readonly label: string;
  readonly roundTripsPerSecond: number;
  /** Per-CPU ring buffer of both readers, KiB. */
  readonly bufferKb: number;
}

export interface FtraceBenchPlan {
  readonly levels: readonly FtraceLevel[];
  /** Seconds of load per level. */
  readonly seconds: number;
  readonly timeoutMs: number;
}

/** One reader at one level. */
export interface ReaderFigures {
  /** sched_switch events it captured stamped within the load (CLOCK_MONOTONIC window of the load). */
  readonly events: number;
  /** Events it lost: the kernel's count for its buffer (overrun + commit overrun + dropped, per CPU, summed), plus, for envtest, its own counted drops (e.g. an export writer that fell behind). */
  readonly lost: number;
  /** Of `lost`, what the kernel lost before the reader got it. */
  readonly kernelLost: number;
  /** CPU seconds of its process tree (user + system) over the load. */
  readonly cpuSeconds: number;
  /** CPU seconds of its process tree over its whole run (start-up and shutdown included). */
  readonly processCpuSeconds: number;
}

export interface FtraceLevelResult {
  readonly level: FtraceLevel;
  /** Round trips the load made, and over how long. */
  readonly roundTrips: number;
  readonly seconds: number;
  readonly envtest: ReaderFigures;
  readonly traceCmd: ReaderFigures;
  /** What explains the figures: envtest's late/dropped counts, per-CPU counters, the kernel's stats. */
  readonly diagnostics?: unknown;
}

interface Harness {
  vmSupport(): { available: true } | { available: false; reason: string };
  runInGuest(opts: { commands: string[]; timeoutMs?: number }): Promise<{ results: Record<string, unknown>; exitCodes: number[]; console: string }>;
}

let harness: Promise<Harness> | undefined;
function loadHarness(): Promise<Harness> {
  if (!harness) {
    register(new URL('./ts-loader.js', import.meta.url));
    harness = import(new URL(`file://${HARNESS}`).href) as Promise<Harness>;
  }
  return harness;
}

/** Why the ftrace comparison cannot run here, or null. trace-cmd is looked up on this machine's / (the guest's root). */
export function ftraceGuestUnavailable(): string | null {
  if (!existsSync('/usr/bin/trace-cmd')) return "trace-cmd is not installed (scripts/ensure-trace-cmd.sh; the guest shares this machine's /)";
  if (!existsSync(ENVTEST)) return `${ENVTEST} is missing: build envtest first (npm run build)`;
  return null;
}

/** The load: a parent and a child ping-pong one byte over two pipes, paced to `rate` round trips/s (0: unpaced). */
const LOAD_PY = `
import json, os, sys, time
rate, dur = float(sys.argv[1]), float(sys.argv[2])
r1, w1 = os.pipe(); r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:
    while True:
        b = os.read(r1, 1)
        if not b or b == b'q': os._exit(0)
        os.write(w2, b'x')
def tree_cpu(root):
    kids, ticks = {}, {}
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try:
            f = open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        kids.setdefault(int(f[1]), []).append(int(p))
        ticks[int(p)] = int(f[11]) + int(f[12])
    total, todo = 0, [root]
    while todo:
        q = todo.pop()
        total += ticks.get(q, 0)
        todo += kids.get(q, [])
    return total / os.sysconf('SC_CLK_TCK')
readers = [int(x) for x in sys.argv[3:]]
cpu0 = [tree_cpu(r) for r in readers]
n = 0; t0 = time.monotonic(); end = t0 + dur; t0ns = time.monotonic_ns()
while True:
    now = time.monotonic()
    if now >= end: break
    if rate > 0 and n >= (now - t0) * rate:
        time.sleep(0.0005); continue
    for _ in range(16):
        os.write(w1, b'x'); os.read(r2, 1); n += 1
os.write(w1, b'q'); os.waitpid(pid, 0)
secs = time.monotonic() - t0; t1ns = time.monotonic_ns()
cpu1 = [tree_cpu(r) for r in readers]
print(json.dumps({"roundTrips": n, "seconds": secs, "t0ns": str(t0ns), "t1ns": str(t1ns), "cpu": [b - a for a, b in zip(cpu0, cpu1)]}))
`;

/** Sums a trace-cmd record's per-CPU stats (printed at the end): overrun + commit overrun + dropped events. */
/**
 * Counts each reader's sched_switch events stamped within the load (both on CLOCK_MONOTONIC: the
 * readers start and stop at different moments, the window makes the counts comparable), sums
 * trace-cmd's per-CPU loss stats (printed at the end of a recording: overrun + commit overrun +
 * dropped events), and writes the level's result.
 */
const PARSE_JS = `
const fs = require('fs');
const [tcOut, tcReport, tcTimes, oursSummary, oursJsonl, oursTimes, load, out, label] = process.argv.slice(1);
const l = JSON.parse(fs.readFileSync(load, 'utf8'));
const t0 = BigInt(l.t0ns), t1 = BigInt(l.t1ns);
const txt = fs.readFileSync(tcOut, 'utf8');
let lost = 0;
for (const m of txt.matchAll(/^(overrun|commit overrun|dropped events):\\s*(\\d+)/gm)) lost += Number(m[2]);
let tcEvents = 0, tcAll = 0, reportLost = 0;
for (const line of fs.readFileSync(tcReport, 'utf8').split('\\n')) {
  const lostLine = /\\[LOST (\\d+) EVENTS\\]/.exec(line);
  if (lostLine) reportLost += Number(lostLine[1]);
  const m = /\\s(\\d+)\\.(\\d+):\\s+sched_switch:/.exec(line);
  if (!m) continue;
  tcAll++;
  const ns = BigInt(m[1]) * 1000000000n + BigInt(m[2].padEnd(9, '0'));
  if (ns >= t0 && ns <= t1) tcEvents++;
}
let ourEvents = 0, ourAll = 0;
for (const line of fs.readFileSync(oursJsonl, 'utf8').split('\\n')) {
  if (!line.includes('sched:sched_switch')) continue;
  ourAll++;
  const ts = BigInt(JSON.parse(line).ts);
  if (ts >= t0 && ts <= t1) ourEvents++;
}
const cpu = (f) => { const l = fs.readFileSync(f, 'utf8').trim().split('\\n').pop().trim().split(/\\s+/); const s = (x) => { const m = /(\\d+)m([\\d.]+)s/.exec(x); return m ? Number(m[1]) * 60 + Number(m[2]) : 0; }; return s(l[0]) + s(l[1]); };
const ours = JSON.parse(fs.readFileSync(oursSummary, 'utf8'));
const f = ours.ftrace && ours.ftrace.host;
const oursLost = f ? f.perCpu.reduce((n, c) => n + c.overrun + c.dropped, 0) : -1;
fs.writeFileSync(out, JSON.stringify({
  label, roundTrips: l.roundTrips, seconds: l.seconds,
  envtest: { events: ourEvents, lost: oursLost + ours.dropped, kernelLost: oursLost, cpuSeconds: l.cpu[1], processCpuSeconds: cpu(oursTimes) },
  traceCmd: { events: tcEvents, lost: Math.max(lost, reportLost), kernelLost: Math.max(lost, reportLost), cpuSeconds: l.cpu[0], processCpuSeconds: cpu(tcTimes) },
  diagnostics: { traceCmdLost: { stats: lost, report: reportLost }, allEvents: { envtest: ourAll, traceCmd: tcAll }, late: ours.late, droppedBy: ours.droppedBy, reorderedLate: ours.details.ftraceReorderedLate, perCpu: f && f.perCpu, kernelStats: fs.readFileSync(oursSummary.replace('ours.json', 'ours.kstats'), 'utf8'), traceCmdStats: txt.slice(-3000) },
}));
`;

function levelScript(plan: FtraceBenchPlan, i: number): string {
  const { roundTripsPerSecond: rate, label, bufferKb } = plan.levels[i]!;
  const d = `/tmp/ft${i}`;
  return [
    `mkdir -p ${d}`,
    // envtest: the whole server pipeline (hook thread reading and converting, merge, export to a
    // file as trace-cmd writes its own).
    `( node ${ENVTEST} server --ftrace sched:sched_switch --ftrace-buffer-kb ${bufferKb} --listen unix://${d}/s.sock --quiet --lateness-ms 5000 --summary ${d}/ours.json --export ${d}/ours.jsonl 2>${d}/ours.err & echo $! > ${d}/ours.pid; wait; times > ${d}/ours.times ) &`,
    // trace-cmd on the top-level buffer, CLOCK_MONOTONIC like ours, same buffer size.
    `( trace-cmd record -C mono -b ${bufferKb} -e sched:sched_switch -o ${d}/tc.dat > ${d}/tc.out 2>&1 & echo $! > ${d}/tc.pid; wait; times > ${d}/tc.times ) &`,
    `i=0; until grep -q 'listening on' ${d}/ours.err 2>/dev/null && [ -s ${d}/tc.pid ]; do i=$((i+1)); [ $i -gt 600 ] && { echo "readers did not start"; cat ${d}/ours.err ${d}/tc.out; exit 93; }; sleep 0.2; done`,
    'sleep 2',
    // The load, which also takes each reader's CPU time (its whole process tree) just before and after.
    `python3 ${d}/../ftload.py ${rate} ${plan.seconds} $(cat ${d}/tc.pid) $(cat ${d}/ours.pid) > ${d}/load.json`,
    // What the kernel handed each of our instance's readers (its own count), for the report.
    `cat /sys/kernel/tracing/instances/vsock-rpc-$(cat ${d}/ours.pid)/per_cpu/cpu*/stats > ${d}/ours.kstats 2>&1`,
    'sleep 1',
    `kill -INT $(cat ${d}/tc.pid) $(cat ${d}/ours.pid)`,
    'wait',
    `trace-cmd report -i ${d}/tc.dat > ${d}/tc.report 2>/dev/null`,
    `node -e '${PARSE_JS.replace(/'/g, `'\\''`)}' ${d}/tc.out ${d}/tc.report ${d}/tc.times ${d}/ours.json ${d}/ours.jsonl ${d}/ours.times ${d}/load.json "$VM_RESULTS_DIR/ftrace-level-${i}.json" '${label}' || { echo "level ${i}: parse failed"; cat ${d}/tc.out ${d}/ours.err; }`,
    `rm -rf ${d}`,
  ].join('\n');
}

/** Boots the guest and measures every level, in order, in one boot. */
export async function runFtraceGuest(plan: FtraceBenchPlan): Promise<FtraceLevelResult[]> {
  const h = await loadHarness();
  const setup = ['mount | grep -q tracefs || mount -t tracefs nodev /sys/kernel/tracing', `cat > /tmp/ftload.py <<'PYEOF'\n${LOAD_PY}\nPYEOF`].join('\n');
  const run = await h.runInGuest({ commands: [setup, ...plan.levels.map((_, i) => levelScript(plan, i))], timeoutMs: plan.timeoutMs });
  // FTRACE_BENCH_DIAG=FILE keeps every level's raw result, diagnostics included.
  const diag = process.env['FTRACE_BENCH_DIAG'];
  if (diag) writeFileSync(diag, JSON.stringify(run.results, null, 1));
  return plan.levels.map((level, i) => {
    const r = run.results[`ftrace-level-${i}`] as Omit<FtraceLevelResult, 'level'> | undefined;
    if (!r)
      throw new Error(
        `ftrace level ${level.label}: the guest wrote no result (exit codes ${JSON.stringify(run.exitCodes)}); console tail:\n${run.console.slice(-2000)}`,
      );
    return { ...r, level };
  });
}

// The ftrace reader on the guest's real kernel, run INSIDE the QEMU test guest as root by
// test/vm/ftrace.vm.test.ts. Cases (one result file each):
//   ftrace-markers: N trace_marker lines arrive exactly once, in order, with their text;
//   ftrace-compare: the same events recorded into our instance and into trace-cmd's at once;
//     every event `trace-cmd report` shows is paired with ours by identity (CPU, name, pid,
//     fields; each instance stamps its copy itself, ours first) and compared (comm, timestamp
//     order); ours must equal the kernel's own text rendering of our buffer (count, order, pid,
//     comm, µs timestamps);
//   ftrace-errors: unknown event, tracefs missing, not root, bad filter: FtraceErrors that name
//     the event/path; close() leaves no instance;
//   ftrace-stale: an instance left by a SIGKILLed process is removed by the next open.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { assertInTestGuest, errorOf, ourInstances, runCase, trace } from './ftrace-common.mjs';
import { compareWithKernelText, compareWithTraceCmd, fmtEvent, parseKernelTrace, parseReport } from './ftrace-compare.mjs';

assertInTestGuest('ftrace-check');
const { FtraceSource } = trace;
const tracefsMounted = () =>
  readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[2] === 'tracefs');

function run(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
  const done = new Promise((resolve) => child.once('close', (code, sig) => resolve(code ?? sig)));
  return { child, done, out: () => out };
}
async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------- markers
await runCase(
  'ftrace-markers',
  async () => {
    const mountedBefore = tracefsMounted();
    const src = await FtraceSource.open({ events: ['sched:sched_switch'], bufferKb: 1024 });
    const mountedAfter = tracefsMounted();
    const N = 3000;
    const texts = Array.from({ length: N }, (_, i) => `step ${i} ✓ ${'x'.repeat(i % 40)}`);
    const got = [];
    let polls = 0;
    let switches = 0;
    const take = (evs) => {
      for (const e of evs) {
        if (e.name === 'print') got.push(e);
        else if (e.name === 'sched_switch') switches++;
      }
    };
    const fd = openSync(src.markerPath, 'w');
    // trace_clock mono is CLOCK_MONOTONIC, as process.hrtime: each marker's kernel timestamp lies
    // between the two readings around its write, also for pages read while half full.
    const before = new Array(N);
    const after = new Array(N);
    for (let i = 0; i < N; i++) {
      before[i] = process.hrtime.bigint();
      writeSync(fd, texts[i]);
      after[i] = process.hrtime.bigint();
      if (i % 250 === 249) {
        take(src.poll());
        polls++;
      }
    }
    closeSync(fd);
    take(await src.close());
    const stats = src.stats();
    const perCpuSorted = [...new Set(got.map((e) => e.cpu))].every((cpu) => {
      const ts = got.filter((e) => e.cpu === cpu).map((e) => e.ts);
      return ts.every((t, i) => i === 0 || ts[i - 1] <= t);
    });
    const ordered = [...got].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    const firstWrong = ordered.findIndex((e, i) => e.fields.buf !== texts[i]);
    const outsideWrite = ordered.filter((e, i) => !(before[i] <= e.ts && e.ts <= after[i])).length;

    // markers: false drops them (without counting them as undecodable); ftrace:print alone is markers only.
    const off = await FtraceSource.open({ events: ['sched:sched_switch'], markers: false, bufferKb: 256 });
    for (let i = 0; i < 10; i++) writeFileSync(off.markerPath, `hidden ${i}`);
    const offEvents = [...off.poll(), ...(await off.close())];
    const only = await FtraceSource.open({ events: ['ftrace:print'], bufferKb: 256 });
    writeFileSync(only.markerPath, 'only a marker');
    const onlyEvents = [...only.poll(), ...(await only.close())];
    // Overflow: a 16 KiB buffer, 4000 markers written without reading: what is not delivered is
    // counted as lost (the kernel's overrun, and the missed-events flag on the pages read after).
    const small = await FtraceSource.open({ events: ['ftrace:print'], bufferKb: 16 });
    for (let i = 0; i < 4000; i++) writeFileSync(small.markerPath, `flood ${i} ${'y'.repeat(60)}`);
    const flood = [...small.poll(), ...(await small.close())].filter((e) => e.name === 'print');
    const floodStats = small.stats();
    const floodNewest = Math.max(...flood.map((e) => Number(e.fields.buf.split(' ')[1])));
    return {
      overflow: { written: 4000, delivered: flood.length, newestDelivered: floodNewest, stats: floodStats },
      mountedBefore,
      mountedAfter,
      n: N,
      received: got.length,
      polls,
      switches,
      perCpuSorted,
      firstWrong,
      outsideWrite,
      cpus: [...new Set(got.map((e) => e.cpu))],
      sample: ordered.slice(0, 3).map(fmtEvent),
      stats,
      offPrints: offEvents.filter((e) => e.name === 'print').length,
      offUndecodable: off.stats().undecodable,
      onlyEvents: onlyEvents.map((e) => `${e.system}:${e.name} ${e.fields.buf}`),
      onlyNames: only.eventNames,
      leftInstances: ourInstances(readdirSync),
    };
  },
  180_000,
);

// ---------------------------------------------------------------- compare with trace-cmd
if (!process.env.FTRACE_SKIP_TRACECMD)
  await runCase(
    'ftrace-compare',
    async () => {
      const EVENTS = ['sched:sched_switch', 'sched:sched_waking', 'irq:*'];
      const src = await FtraceSource.open({ events: EVENTS, bufferKb: 16384, markers: false });
      const TC = '/sys/kernel/tracing/instances/vsrpc-tc';
      let tc;
      let tcCode;
      let kernelText;
      try {
        tc = run(
          'trace-cmd',
          ['record', '-B', 'vsrpc-tc', '-C', 'mono', '-b', '16384', '-e', 'sched:sched_switch', '-e', 'sched:sched_waking', '-e', 'irq', '-o', '/tmp/tc.dat'],
          { cwd: '/tmp' },
        );
        // trace-cmd's "Hit Ctrl^C" goes to a buffered pipe: wait for its instance to trace instead.
        const tcTracing = () => {
          try {
            return readFileSync(`${TC}/events/sched/sched_switch/enable`, 'utf8').trim() === '1' && readFileSync(`${TC}/tracing_on`, 'utf8').trim() === '1';
          } catch {
            return false;
          }
        };
        await until(() => tcTracing() || tc.child.exitCode !== null, 90_000, 'trace-cmd record to start tracing');
        if (tc.child.exitCode !== null) throw new Error(`trace-cmd record exited early: ${tc.out()}`);
        await new Promise((r) => setTimeout(r, 1500)); // its per-CPU recorders start after tracing is on
        const loads = [run(process.execPath, ['test/vm/guest/ftrace-load.mjs', '1500']), run(process.execPath, ['test/vm/guest/ftrace-load.mjs', '1500'])];
        await Promise.all(loads.map((l) => l.done));
        tc.child.kill('SIGINT');
        tcCode = await tc.done;
        writeFileSync(`${src.instancePath}/tracing_on`, '0');
        kernelText = parseKernelTrace(readFileSync(`${src.instancePath}/trace`, 'utf8'));
      } catch (e) {
        if (tc && tc.child.exitCode === null) tc.child.kill('SIGKILL');
        await src.close();
        throw e;
      }
      const ours = await src.close();
      const stats = src.stats();
      const report = execFileSync('trace-cmd', ['report', '-i', '/tmp/tc.dat', '-R', '-t'], { encoding: 'utf8', maxBuffer: 1 << 28, cwd: '/tmp' });
      const { events: theirs, unparsed } = parseReport(report);
      const tcStats = execFileSync('trace-cmd', ['report', '-i', '/tmp/tc.dat', '--stat'], { encoding: 'utf8', maxBuffer: 1 << 24, cwd: '/tmp' });

      const kernelMismatch = compareWithKernelText(ours, kernelText);
      const { matched, fieldValues, missing, commDiff, missingContext, theirOnly, oursOnly, oursOnlySample, oursInTheirWindow, deltas } = compareWithTraceCmd(
        ours,
        theirs,
      );
      const byName = (list) => list.reduce((m, e) => ((m[e.name] = (m[e.name] ?? 0) + 1), m), {});
      return {
        tcCode,
        ours: ours.length,
        theirs: theirs.length,
        unparsedReportLines: unparsed,
        matched,
        fieldValues,
        missing,
        commDiff,
        deltaNs: {
          min: deltas[0],
          p1: deltas[Math.floor(deltas.length / 100)],
          median: deltas[Math.floor(deltas.length / 2)],
          p99: deltas[Math.floor((deltas.length * 99) / 100)],
          max: deltas.at(-1),
        },
        missingContext,
        theirOnly,
        oursInTheirWindow,
        oursOnly,
        oursOnlySample,
        oursByName: byName(ours),
        theirsByName: byName(theirs),
        kernelTextEvents: kernelText.length,
        kernelMismatch,
        stats,
        tcStats: tcStats
          .split('\n')
          .filter((l) => /overrun|dropped|entries|CPU/.test(l))
          .slice(0, 16),
        sampleSwitch: ours
          .filter((e) => e.name === 'sched_switch')
          .slice(100, 105)
          .map(fmtEvent),
        sampleReport: theirs
          .filter((e) => e.name === 'sched_switch')
          .slice(100, 102)
          .map((t) => `${t.comm}-${t.pid} [${t.cpu}] ${t.ts} ${t.name}: ${t.rest}`),
        leftInstances: ourInstances(readdirSync),
        tcInstanceLeft: existsSync('/sys/kernel/tracing/instances/vsrpc-tc'),
      };
    },
    300_000,
  );

// ---------------------------------------------------------------- errors
await runCase('ftrace-errors', async () => {
  const unknownEvent = await errorOf(() => FtraceSource.open({ events: ['sched:no_such_event'] }));
  const unknownSystem = await errorOf(() => FtraceSource.open({ events: ['nosys:foo'] }));
  const empty = mkdtempSync('/tmp/no-tracefs-');
  const noTracefs = await errorOf(() => FtraceSource.open({ events: ['sched:sched_switch'], tracefs: empty }));
  const missingDir = await errorOf(() => FtraceSource.open({ events: ['sched:sched_switch'], tracefs: '/nonexistent/tracing' }));
  const badFilter = await errorOf(() => FtraceSource.open({ events: ['sched:sched_switch[prev_pid >>> 3]'] }));
  const badSpec = await errorOf(() => FtraceSource.open({ events: ['sched_switch'] }));
  const afterErrors = ourInstances(readdirSync);
  const nr = run('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', '--', process.execPath, 'test/vm/guest/ftrace-notroot.mjs']);
  await nr.done;
  const notRootLine = nr
    .out()
    .trim()
    .split('\n')
    .find((l) => l.startsWith('{'));
  const notRoot = notRootLine ? JSON.parse(notRootLine) : { raw: nr.out() };
  // close() removes the instance, and is idempotent.
  const s = await FtraceSource.open({ events: ['sched:sched_switch'], instance: 'vsock-rpc-close-check' });
  const existed = existsSync(s.instancePath);
  await s.close();
  const second = await s.close();
  return {
    unknownEvent,
    unknownSystem,
    noTracefs,
    missingDir,
    badFilter,
    badSpec,
    notRoot,
    afterErrors,
    closeCheck: { existed, removed: !existsSync(s.instancePath), secondClose: second.length },
    leftInstances: ourInstances(readdirSync),
  };
});

// ---------------------------------------------------------------- stale instance
await runCase('ftrace-stale', async () => {
  const child = run(process.execPath, ['test/vm/guest/ftrace-child.mjs']);
  await until(() => /ready (\S+)/.test(child.out()) || child.child.exitCode !== null, 60_000, 'the child to open its source');
  const path = /ready (\S+)/.exec(child.out())?.[1];
  if (!path) throw new Error(`child failed: ${child.out()}`);
  child.child.kill('SIGKILL');
  await child.done;
  const leftAfterKill = existsSync(path);
  const warnings = [];
  const s = await FtraceSource.open({ events: ['sched:sched_switch'], onWarning: (m) => warnings.push(m) });
  const removedByOpen = !existsSync(path);
  await s.close();
  return { childInstance: path, childPid: child.child.pid, leftAfterKill, removedByOpen, warnings, leftInstances: ourInstances(readdirSync) };
});

// Every case closed what it opened; exit even if a failed case left a child behind.
process.exit(0);

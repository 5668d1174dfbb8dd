/**
 * envtest --ftrace in a QEMU guest (issue 14, tests 3 and 4), one boot:
 *
 * - end to end: `envtest server --ftrace sched:sched_switch` and two `envtest client --ftrace
 *   sched:sched_switch` on the guest's loopback vsock (CID 2 loops back in the guest). Each reads
 *   the guest kernel's sched_switch events through a tracefs instance of its own. The export holds
 *   all three sources' events in timestamp order; the summary counts them, with the losses per
 *   CPU (the server's measured, the clients' as their claims);
 * - the CLI's side of the error cases: an unknown event and a non-root user exit with code 2 and
 *   a message naming the event / saying to run as root; SIGINT mid-trace exits 0 and leaves no
 *   instance under /sys/kernel/tracing/instances.
 *
 * tracefs is only ever touched inside the guest (test/vm/README.md).
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runInGuest, vmSupport } from './harness.js';

const CLI = 'node envtest/dist/cli.js';
const INSTANCES = '/sys/kernel/tracing/instances';

/** A shell loop waiting (≤ 180 s) for `pattern` in `file`, else exit `code`. */
const waitFor = (file: string, pattern: string, code: number) =>
  [
    'i=0',
    `until grep -q '${pattern}' ${file} 2>/dev/null; do`,
    `  i=$((i+1)); if [ $i -gt 900 ]; then echo "timed out waiting for ${pattern} in ${file}"; cat ${file}; exit ${code}; fi`,
    '  sleep 0.2',
    'done',
  ].join('\n');

/** Test 4: server + two clients, all with --ftrace sched:sched_switch. */
function endToEnd(): string {
  const client = (name: string) =>
    `${CLI} client --name ${name} --ftrace sched:sched_switch --duration 6 --timeout-scale 20 --summary "$R/client-${name}.json" 2>/tmp/${name}.err & pids="$pids $!"`;
  return [
    'export R="$VM_RESULTS_DIR"',
    'mount | grep -q tracefs || mount -t tracefs nodev /sys/kernel/tracing',
    `${CLI} server --ftrace sched:sched_switch --quiet --status --lateness-ms 30000 --duration 900 --summary "$R/server-summary.json" --export /tmp/ftrace.jsonl 2>/tmp/server.err &`,
    'server=$!',
    waitFor('/tmp/server.err', 'listening on', 90),
    'pids=""',
    client('c1'),
    client('c2'),
    'fails=0',
    'for p in $pids; do wait $p || fails=$((fails+1)); done',
    'for n in c1 c2; do echo "--- $n"; cat /tmp/$n.err; done',
    'kill -INT $server',
    'wait $server; src=$?',
    'tail -n 5 /tmp/server.err',
    'node test/vm/guest/ftrace-e2e-check.mjs /tmp/ftrace.jsonl "$R/check.json" || echo "export check failed"',
    `left=$(ls ${INSTANCES} | wc -l)`,
    'echo "{\\"clientFailures\\": $fails, \\"serverExit\\": $src, \\"instancesLeft\\": $left}" > "$R/exits.json"',
    // The summary for the closing note: printed on the console.
    'echo "=== server summary"; cat "$R/server-summary.json"',
    'echo "=== sample"; cat "$R/check.json"; echo',
  ].join('\n');
}

/** Test 3 (CLI half): unknown event, not root, SIGINT mid-trace. */
function errorCases(): string {
  return [
    'export R="$VM_RESULTS_DIR"',
    `${CLI} client --ftrace sched:no_such_event --connect unix:///tmp/none.sock 2>/tmp/unknown.err; unknown=$?`,
    `${CLI} server --ftrace nosuchsystem:foo --listen unix:///tmp/none2.sock 2>/tmp/unknown2.err; unknown2=$?`,
    `setpriv --reuid=65534 --regid=65534 --clear-groups ${CLI} server --ftrace sched:sched_switch --listen unix:///tmp/nr.sock 2>/tmp/notroot.err; notroot=$?`,
    `${CLI} server --ftrace sched:sched_switch --listen unix:///tmp/sig.sock --quiet 2>/tmp/sig.err &`,
    'sig=$!',
    waitFor('/tmp/sig.err', 'listening on', 91),
    'sleep 1',
    `during=$(ls ${INSTANCES} | wc -l)`,
    'kill -INT $sig',
    'wait $sig; sigexit=$?',
    `after=$(ls ${INSTANCES} | wc -l)`,
    'for f in unknown unknown2 notroot sig; do echo "--- $f"; cat /tmp/$f.err; done',
    `node -e 'const fs=require("fs");const r=(f)=>fs.readFileSync(f,"utf8");fs.writeFileSync(process.env.R+"/errors.json",JSON.stringify({unknown:{code:+process.argv[1],err:r("/tmp/unknown.err")},unknown2:{code:+process.argv[2],err:r("/tmp/unknown2.err")},notroot:{code:+process.argv[3],err:r("/tmp/notroot.err")},sigint:{code:+process.argv[4],during:+process.argv[5],after:+process.argv[6],err:r("/tmp/sig.err")}}))' $unknown $unknown2 $notroot $sigexit $during $after`,
  ].join('\n');
}

describe.skipIf(!vmSupport().available)('envtest --ftrace in a QEMU guest', () => {
  it('server + 2 clients trace sched_switch into one ordered timeline with their losses; errors exit 2; SIGINT leaves no instance', async () => {
    const r = await runInGuest({ commands: [errorCases(), endToEnd()], timeoutMs: 600_000 });
    const context = r.console.slice(-8000);
    // FTRACE_E2E_CONSOLE=path keeps the whole console (the closing note quotes it).
    if (process.env['FTRACE_E2E_CONSOLE']) writeFileSync(process.env['FTRACE_E2E_CONSOLE'], r.console);
    expect(r.exitCodes, context).toEqual([0, 0]);

    // ---- test 3, the CLI's half
    const errors = r.results['errors'] as Record<string, { code: number; err: string; during?: number; after?: number }>;
    expect(errors, context).toBeDefined();
    expect(errors['unknown']!.code, errors['unknown']!.err).toBe(2);
    expect(errors['unknown']!.err).toMatch(/sched:no_such_event/);
    expect(errors['unknown']!.err).toMatch(/events\/sched\/no_such_event/);
    expect(errors['unknown2']!.code, errors['unknown2']!.err).toBe(2);
    expect(errors['unknown2']!.err).toMatch(/nosuchsystem/);
    expect(errors['notroot']!.code, errors['notroot']!.err).toBe(2);
    expect(errors['notroot']!.err).toMatch(/root/);
    expect(errors['sigint']!.code, errors['sigint']!.err).toBe(0);
    expect(errors['sigint']!.during, 'the instance exists while tracing').toBe(1);
    expect(errors['sigint']!.after, 'no instance left after SIGINT').toBe(0);

    // ---- test 4
    expect(r.results['exits'], context).toEqual({ clientFailures: 0, serverExit: 0, instancesLeft: 0 });
    const check = r.results['check'] as {
      lines: number;
      outOfOrder: number;
      late: number;
      disorder: unknown[];
      bySourceKind: Record<string, Record<string, number>>;
      cpusBySource: Record<string, number[]>;
      sample: Record<string, string[]>;
      fieldsOk: boolean;
    };
    expect(check, context).toBeDefined();
    const serverDetails = JSON.stringify({ disorder: check.disorder, lateMarked: check.late, summary: r.results['server-summary'] }).slice(0, 4000);
    expect(check.outOfOrder, serverDetails).toBe(0);
    expect(check.fieldsOk).toBe(true);
    const sources = ['host', 'c1', 'c2'];
    for (const s of sources) expect(check.bySourceKind[s]?.['sched:sched_switch'] ?? 0, `${s}: ${JSON.stringify(check.bySourceKind)}`).toBeGreaterThan(0);
    // 2 vCPUs: every reader sees switches on both.
    for (const s of sources) expect(check.cpusBySource[s]).toEqual([0, 1]);

    const summary = r.results['server-summary'] as {
      events: { bySource: Record<string, number> };
      dropped: number;
      ftrace: Record<
        string,
        {
          losses: string;
          events: Record<string, number>;
          total: number;
          lost: number;
          perCpu: { cpu: number; lost: number; arrived: number; events: number }[];
        }
      >;
    };
    expect(summary.dropped, JSON.stringify(summary)).toBe(0);
    for (const s of sources) {
      const f = summary.ftrace[s]!;
      expect(f, s).toBeDefined();
      // The summary counts what the export holds, with the losses per CPU.
      expect(f.events['sched:sched_switch']).toBe(check.bySourceKind[s]!['sched:sched_switch']);
      expect(f.losses).toBe(s === 'host' ? 'measured' : 'claim');
      expect(f.perCpu.map((c) => c.cpu)).toEqual([0, 1]);
      expect(f.lost).toBe(f.perCpu.reduce((n, c) => n + c.lost, 0));
      // Nothing lost on the way: every event each reader delivered arrived (4 MiB per CPU is
      // plenty for 2 vCPUs; a client's count starts once it is connected).
      for (const c of f.perCpu) expect(c.arrived, `${s} cpu${c.cpu}`).toBe(c.events);
    }
    for (const n of ['c1', 'c2']) {
      const c = r.results[`client-${n}`] as {
        dropped: number;
        ftrace: Record<string, { total: number; lost: number }>;
        details: { ftraceBeforeConnect: number };
      };
      expect(c.dropped).toBe(0);
      // Everything its reader delivered arrived at the server.
      expect(c.ftrace[n]!.total).toBe(summary.ftrace[n]!.total);
    }
  }, 660_000);
});

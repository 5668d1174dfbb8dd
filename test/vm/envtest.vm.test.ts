/**
 * envtest over real AF_VSOCK, inside one QEMU guest: `envtest server` on its default address
 * (vsock://any:11451) and three `envtest client`s on their default target (vsock://2:11451, the
 * host CID, which loops back inside the guest because vhost_vsock and vsock_loopback are loaded).
 * Never run against vsock on the development machine itself (see test/vm/README.md).
 */
import { describe, expect, it } from 'vitest';
import { runInGuest, vmSupport } from './harness.js';

const COUNT = 10_000;
const CLIENTS = ['g1', 'g2', 'g3'];

/**
 * Checks the JSONL export inside the guest (the share is deleted once the guest stops, and only
 * `*.json` results come back): order, duplicates and per-source counts, as one JSON object.
 */
const CHECK_EXPORT = `
const lines = require('fs').readFileSync(process.argv[process.argv.length - 1], 'utf8').split('\\n').filter(Boolean);
let prev = -1n, outOfOrder = 0, duplicates = 0;
const seen = new Set(), bySource = {}, maxSeq = {};
for (const l of lines) {
  const e = JSON.parse(l);
  const ts = BigInt(e.ts);
  if (ts < prev) outOfOrder++;
  prev = ts;
  const key = e.source + '/' + e.seq;
  if (seen.has(key)) duplicates++;
  seen.add(key);
  bySource[e.source] = (bySource[e.source] || 0) + 1;
  maxSeq[e.source] = Math.max(maxSeq[e.source] ?? -1, e.seq);
}
process.stdout.write(JSON.stringify({ lines: lines.length, outOfOrder, duplicates, bySource, maxSeq }));
`;

/** One shell script: server in the background, three clients, ctrl-C to the server, then the check. */
function guestScript(): string {
  const clients = CLIENTS.map(
    (name) =>
      `node envtest/dist/cli.js client --name ${name} --count ${COUNT} --rate 1000 --summary "$R/client-${name}.json" 2>"/tmp/${name}.err" & pids="$pids $!"`,
  );
  return [
    'R="$VM_RESULTS_DIR"',
    // Defaults on purpose: vsock://any:11451 for the server, vsock://2:11451 for the clients.
    // TCG makes every thread slow, so batches can sit for seconds between stamping and merging:
    // a generous lateness bound keeps them in the timeline (heartbeats keep it moving anyway).
    'node envtest/dist/cli.js server --quiet --rate 50 --lateness-ms 30000 --duration 900 --summary "$R/server-summary.json" --export /tmp/timeline.jsonl 2>/tmp/server.err &',
    'server=$!',
    'i=0',
    "until grep -q 'listening on' /tmp/server.err 2>/dev/null; do",
    '  i=$((i+1)); if [ $i -gt 900 ] || ! kill -0 $server 2>/dev/null; then echo "server did not start"; cat /tmp/server.err; exit 90; fi',
    '  sleep 0.2',
    'done',
    'cat /tmp/server.err',
    'pids=""',
    ...clients,
    'fails=0',
    'for p in $pids; do wait $p || fails=$((fails+1)); done',
    `for n in ${CLIENTS.join(' ')}; do echo "--- $n"; cat /tmp/$n.err; done`,
    'kill -INT $server',
    'wait $server; src=$?',
    'cat /tmp/server.err',
    // Only a complete JSON result goes to $R (the harness rejects the run on a broken one);
    // anything else is printed to the console for the failure message.
    `node -e '${CHECK_EXPORT.replace(/'/g, `'\\''`)}' /tmp/timeline.jsonl > /tmp/check.out 2>&1 && cp /tmp/check.out "$R/check.json" || { echo "export check failed:"; cat /tmp/check.out; ls -la /tmp; }`,
    'echo "{\\"clientFailures\\": $fails, \\"serverExit\\": $src}" > "$R/exits.json"',
    '[ $fails -eq 0 ] && [ $src -eq 0 ]',
  ].join('\n');
}

describe.skipIf(!vmSupport().available)('envtest in a QEMU guest over real vsock', () => {
  it(`server on vsock://any:11451 + ${CLIENTS.length} clients on vsock://2:11451, ${COUNT} events each: merged in order, nothing lost`, async () => {
    const r = await runInGuest({ commands: [guestScript()], timeoutMs: 420_000 });
    const context = r.console.slice(-6000);
    expect(r.exitCodes, context).toEqual([0]);
    expect(r.results['exits'], context).toEqual({ clientFailures: 0, serverExit: 0 });

    const summary = r.results['server-summary'] as {
      events: { bySource: Record<string, number> };
      dropped: number;
      late: number;
      clock: Record<string, { offsetNs: string; errorBoundNs: string }>;
      details: { listen: string; seqGaps: number };
    };
    expect(summary.details.listen).toMatch(/^vsock:\/\/.*:11451$/);
    for (const g of CLIENTS) expect(summary.events.bySource[g], context).toBe(COUNT);
    expect(CLIENTS.reduce((n, g) => n + summary.events.bySource[g]!, 0)).toBe(3 * COUNT);
    const detail = JSON.stringify(summary);
    expect(summary.dropped, detail).toBe(0);
    expect(summary.late, detail).toBe(0);
    expect(summary.details.seqGaps).toBe(0);
    for (const g of CLIENTS) expect(summary.clock[g]).toBeDefined();

    const check = r.results['check'] as {
      lines: number;
      outOfOrder: number;
      duplicates: number;
      bySource: Record<string, number>;
      maxSeq: Record<string, number>;
    };
    expect(check, context).toBeDefined();
    expect(check.outOfOrder).toBe(0);
    expect(check.duplicates).toBe(0);
    for (const g of CLIENTS) {
      expect(check.bySource[g]).toBe(COUNT);
      expect(check.maxSeq[g]).toBe(COUNT - 1);
    }
    expect(check.lines).toBe(Object.values(summary.events.bySource).reduce((a, b) => a + b, 0));

    for (const g of CLIENTS) {
      const c = r.results[`client-${g}`] as { events: { total: number }; dropped: number };
      expect(c.events.total).toBe(COUNT);
      expect(c.dropped).toBe(0);
    }
  }, 480_000);
});

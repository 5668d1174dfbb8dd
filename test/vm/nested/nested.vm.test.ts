/**
 * The nested tier: a real host↔guest vsock link between two kernels.
 * - Smoke test: the inner guest's virtio-vsock device gives it CID 3, and a stream connection
 *   from it to CID 2 reaches a listener in the outer guest over vhost-vsock. Both ends use
 *   python3's AF_VSOCK support (fast to start: `node -e 0` alone takes minutes under TCG-in-TCG).
 * - envtest end to end (issue 18): `envtest server` in the outer guest and `envtest client` in
 *   the inner guest, both on their default addresses, with --timeout-scale for the slow guest.
 * Opt-in: `npm run test:nested` (VSOCK_RPC_NESTED=1); the root vitest config excludes this folder.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { guestSupportDetails, vmSupport } from '../harness.js';
import { runNested } from './harness-nested.js';

/** Relative to the repository root, where the guests' commands run. */
const ENVTEST_CLI = 'envtest/dist/cli.js';

function nestedSkipReason(): string | null {
  if (!process.env.VSOCK_RPC_NESTED) return 'set VSOCK_RPC_NESTED=1 (npm run test:nested)';
  const s = vmSupport();
  if (!s.available) return s.reason;
  if (!guestSupportDetails().optionalModules.includes('vmw_vsock_virtio_transport')) return 'kernel has no vmw_vsock_virtio_transport module';
  return null;
}
const tierSkip = nestedSkipReason();
const skipReason = tierSkip ?? (existsSync('/usr/bin/python3') ? null : 'the smoke test needs /usr/bin/python3');
const envtestSkip = tierSkip ?? (existsSync(ENVTEST_CLI) ? null : `${ENVTEST_CLI} is missing: build first`);
if (skipReason) console.warn(`[vm nested] skipping the smoke test: ${skipReason}`);
if (envtestSkip) console.warn(`[vm nested] skipping the envtest test: ${envtestSkip}`);

const PORT = 9999;

const HOST_SIDE = `python3 - <<'EOF'
import json, os, socket
s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
s.bind((socket.VMADDR_CID_ANY, ${PORT}))
s.listen(1)
print('@@NESTED host side listening', flush=True)
c, addr = s.accept()
msg = c.recv(100).decode()
c.sendall(b'hello from the host side')
json.dump({'peer': list(addr), 'msg': msg}, open(os.environ['VM_RESULTS_DIR'] + '/host.json', 'w'))
EOF`;

const GUEST_SIDE = `python3 - <<'EOF'
import fcntl, json, os, socket, struct
IOCTL_VM_SOCKETS_GET_LOCAL_CID = 0x7b9
with open('/dev/vsock', 'rb') as f:
    cid = struct.unpack('I', fcntl.ioctl(f, IOCTL_VM_SOCKETS_GET_LOCAL_CID, struct.pack('I', 0)))[0]
s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
s.settimeout(120)
s.connect((socket.VMADDR_CID_HOST, ${PORT}))
s.sendall(b'hello from the inner guest')
reply = s.recv(100).decode()
json.dump({'cid': cid, 'reply': reply, 'release': os.uname().release}, open(os.environ['VM_RESULTS_DIR'] + '/guest.json', 'w'))
EOF`;

describe.skipIf(skipReason !== null)('nested QEMU: host-to-guest vsock between two kernels', () => {
  it(
    'the inner guest has CID 3 and reaches the outer guest on CID 2',
    async () => {
      const r = await runNested({ innerCommands: [GUEST_SIDE], hostCommands: [HOST_SIDE], timeoutMs: 15 * 60_000 });
      // The inner guest's own markers carry its uptime: where the minutes went (boot vs. commands).
      const markers = r.inner.console.split('\n').filter((l) => l.includes('@@VMRPC'));
      console.log(`[vm nested] outer run ${r.durationMs} ms, inner guest ${r.inner.durationMs} ms\n${markers.join('\n')}`);
      expect(r.inner.exitCodes).toEqual([0]);
      expect(r.inner.results.guest).toMatchObject({ cid: 3, reply: 'hello from the host side' });
      expect(r.host.exitCodes).toEqual([0]);
      expect(r.host.results.host).toEqual({ peer: [3, expect.any(Number)], msg: 'hello from the inner guest' });
    },
    16 * 60_000,
  );
});

// --- envtest end to end across the nested link (issue 18) -------------------------------------

/** Events the inner guest's client sends. */
const COUNT = 200;
/** The client's source name on the server's timeline. */
const CLIENT = 'inner-cid3';
/**
 * One knob for the slow guest, on both ends: every protocol limit (handshake, keepalive/idle,
 * frame deadlines, connect attempt and --connect-timeout, clock exchanges, the first clock sync,
 * the client's wait for acknowledgements) times this. Too short for TCG-in-TCG? Raise it.
 */
const TIMEOUT_SCALE = 60;
/** The server's merge waits this long for a source that lags (the inner guest's batches may). */
const LATENESS_MS = 600_000;
/** The whole run: the inner guest alone needs ~1 min to boot and minutes per node start. */
const ENVTEST_TIMEOUT_MS = 60 * 60_000;
/** After the inner guest is off, the server gets this long to stop and write its summary. */
const HOST_WAIT_MS = 180_000;

/**
 * Outer guest (the vsock host, CID 2): the server on its default vsock://any:11451, no host events,
 * until the inner guest's "client done" file appears in $VM_INNER_RESULTS_DIR; then SIGTERM (it
 * flushes the merge and writes --summary) and its stderr, summary line included, to the console.
 */
const SERVER_SIDE = `R="$VM_RESULTS_DIR"
DONE="$VM_INNER_RESULTS_DIR/client-done.json"
node ${ENVTEST_CLI} server --quiet --rate 0 --lateness-ms ${LATENESS_MS} --timeout-scale ${TIMEOUT_SCALE} --summary "$R/server-summary.json" 2>/tmp/server.err &
server=$!
echo "@@ENVTEST server started (pid $server) uptime=$(cut -d' ' -f1 /proc/uptime)"
until [ -f "$DONE" ] || ! kill -0 $server 2>/dev/null; do sleep 1; done
echo "@@ENVTEST client done: $(cat "$DONE" 2>/dev/null) uptime=$(cut -d' ' -f1 /proc/uptime)"
kill -TERM $server 2>/dev/null
wait $server; code=$?
echo "@@ENVTEST server exited $code uptime=$(cut -d' ' -f1 /proc/uptime)"
sed 's/^/@@ENVTEST server: /' /tmp/server.err
echo "{\\"serverExit\\": $code}" > "$R/server-exit.json"
[ $code -eq 0 ]`;

/**
 * Inner guest (CID 3): the client on its default vsock://2:11451. Its summary is copied to the
 * results first, then "client-done.json" appears at once (rename), which tells the server side.
 */
const CLIENT_SIDE = `R="$VM_RESULTS_DIR"
echo "@@ENVTEST client starting uptime=$(cut -d' ' -f1 /proc/uptime)"
node ${ENVTEST_CLI} client --name ${CLIENT} --count ${COUNT} --timeout-scale ${TIMEOUT_SCALE} --summary /tmp/client-summary.json
code=$?
echo "@@ENVTEST client exited $code uptime=$(cut -d' ' -f1 /proc/uptime)"
[ -f /tmp/client-summary.json ] && cp /tmp/client-summary.json "$R/client-summary.json"
echo "{\\"clientExit\\": $code}" > "$R/client-done.tmp" && mv "$R/client-done.tmp" "$R/client-done.json"
exit $code`;

interface EnvtestSummary {
  events: { bySource: Record<string, number>; total: number };
  dropped: number;
  droppedBy: Record<string, number>;
  late: number;
  unconfirmed?: number;
  clock: Record<string, { offsetNs: string; errorBoundNs: string; driftPpm: number }>;
  durationS: number;
  details: Record<string, unknown>;
}

describe.skipIf(envtestSkip !== null)('nested QEMU: envtest across a real host-to-guest vsock link', () => {
  it(
    `envtest server in the outer guest (vsock://any:11451), client in the inner guest (CID 3, vsock://2:11451): ${COUNT} events, --timeout-scale ${TIMEOUT_SCALE}`,
    async () => {
      const started = Date.now();
      const r = await runNested({
        innerCommands: [CLIENT_SIDE],
        hostCommands: [SERVER_SIDE],
        hostWaitMs: HOST_WAIT_MS,
        timeoutMs: ENVTEST_TIMEOUT_MS,
      });
      const wallMs = Date.now() - started;
      const lines = r.console.replace(/\r/g, '').split('\n');
      const envtestLines = lines.filter((l) => l.includes('@@ENVTEST') || l.includes('@@VMRPC') || l.includes('envtest client'));
      const summaryLine = lines.find((l) => /envtest server: \d+ events in /.test(l))?.replace(/^.*?envtest server: /, 'envtest server: ');
      const server = r.host.results['server-summary'] as EnvtestSummary | undefined;
      const client = r.inner.results['client-summary'] as EnvtestSummary | undefined;
      console.log(
        [
          `[vm nested envtest] wall time ${(wallMs / 1000).toFixed(1)} s (outer guest ${r.durationMs} ms, inner guest ${r.inner.durationMs} ms)`,
          `[vm nested envtest] server summary line: ${summaryLine ?? '(none)'}`,
          `[vm nested envtest] server clock entry for ${CLIENT}: ${JSON.stringify(server?.clock?.[CLIENT])}`,
          ...envtestLines,
        ].join('\n'),
      );
      const context = `${r.console.slice(-6000)}\nserver: ${JSON.stringify(server)}\nclient: ${JSON.stringify(client)}`;
      expect(r.inner.exitCodes, context).toEqual([0]);
      expect(r.inner.results['client-done'], context).toEqual({ clientExit: 0 });
      expect(r.host.results['server-exit'], context).toEqual({ serverExit: 0 });
      expect(r.host.exitCodes, context).toEqual([0]);

      // The server counted every event of the inner guest's client, dropped none, and holds the
      // client's clock estimate, measured across virtio-vsock/vhost-vsock.
      expect(server, context).toBeDefined();
      expect(server!.details['listen'], context).toMatch(/^vsock:\/\/.*:11451$/);
      expect(server!.events.bySource[CLIENT], context).toBe(COUNT);
      expect(server!.dropped, context).toBe(0);
      const clock = server!.clock[CLIENT];
      expect(clock, context).toBeDefined();
      expect(clock!.offsetNs, context).toMatch(/^-?\d+$/);
      expect(clock!.errorBoundNs, context).toMatch(/^\d+$/);
      expect(summaryLine, context).toMatch(new RegExp(`^envtest server: ${COUNT} events in `));

      // The client: everything acknowledged, on its default target (vsock://2:11451).
      expect(client, context).toBeDefined();
      expect(client!.details['connect'], context).toMatch(/^vsock:\/\/2:11451$/);
      expect(client!.details['acknowledged'], context).toBe(COUNT);
      expect(client!.events.total, context).toBe(COUNT);
      expect(client!.dropped, context).toBe(0);
      expect(client!.unconfirmed ?? 0, context).toBe(0);
    },
    ENVTEST_TIMEOUT_MS + 5 * 60_000,
  );
});

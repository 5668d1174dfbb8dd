/**
 * The engine (ServerEngine / ClientEngine) over real AF_VSOCK and over hybrid vsock, in one QEMU
 * guest boot: guest/engine-transports.mjs runs three parts against the BUILT packages and writes
 * one JSON result; each part is asserted in its own `it` here.
 * - vsock: ServerEngine on vsock://any, ClientEngine dialling vsock://1 (CID 1 loopback)
 * - hybrid, host-initiated: ClientEngine on hybrid://<uds>:<port> through an in-guest muxer that
 *   plays the VMM (CONNECT <port> / OK <hostport>, then vsock://1:<port>)
 * - hybrid, guest-initiated: ServerEngine on hybrid://<uds>:<port> (a unix listener at
 *   <uds>_<port>), reached from a real vsock connection the muxer forwards there
 * - streams, 256 MiB each with a sha256 at both ends: a client stream over vsock://1, and a server
 *   stream to a ClientEngine on hybrid://<uds>:<port> through the same kind of muxer
 * Never run the guest script on the host (it refuses to: see assertInTestGuest).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInGuest, vmSupport, type RunInGuestResult } from './harness.js';

const support = vmSupport();
if (!support.available) console.warn(`[vm] skipping the engine guest tier: ${support.reason}`);

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const BUILT = [
  '../../packages/vsock/dist/index.js',
  '../../packages/vsock/build/Release/vsock.node',
  '../../packages/engine/dist/index.js',
  '../../packages/wire/dist/examples.js',
].map(here);

/** Must match the guest script's defaults. */
const EVENTS = 10_000;
const CALLS = 200;
const REVERSE_CALLS = 20;
const STREAM_BYTES = 256 * 1024 * 1024;

interface PeerFigures {
  transport: string;
  cid: number | null;
  address: string;
  name: string;
}
interface Part {
  ok: boolean;
  error?: string;
  ms: number;
  listen: string;
  connect: string;
  eventsReceived: number;
  eventsInOrder: boolean;
  eventTransports: string[];
  callsOk: number;
  reverseCallsOk: number;
  serverPeer: PeerFigures;
  clientPeer: PeerFigures | null;
  connects: number;
  eventsMs: number;
  callsMs: number;
  muxer?: {
    accepted: number;
    connectLines?: string[];
    okLines?: string[];
    forwardedEarlyBytes?: number;
    peers?: { transport: string; cid?: number }[];
    errors: string[];
  };
  unixPath?: string;
}
interface StreamEnd {
  bytes: number;
  chunks: number;
  sha256: string;
}
interface StreamPart {
  ok: boolean;
  error?: string;
  ms: number;
  connect: string;
  direction: 'upload' | 'download';
  sent: StreamEnd;
  received: StreamEnd;
  streamMs: number;
  mbPerSecond: number;
  peerTransport: string | null;
  muxer?: { accepted: number; connectLines?: string[]; errors: string[] };
}

describe.skipIf(!support.available)('engine over vsock and hybrid vsock in a QEMU guest', () => {
  let run: RunInGuestResult;
  const results = (): Record<string, unknown> => {
    const r = run.results['engine-transports'] as Record<string, unknown> | undefined;
    if (!r) throw new Error(`no engine-transports result; exit codes ${JSON.stringify(run.exitCodes)}; console tail:\n${run.console.slice(-3000)}`);
    return r;
  };
  const part = (name: string): Part => {
    const p = results()[name] as Part | undefined;
    if (!p) throw new Error(`part ${name} did not run; console tail:\n${run.console.slice(-3000)}`);
    if (!p.ok) throw new Error(`part ${name} failed in the guest: ${p.error}`);
    console.log(`[vm] engine ${name}: ${EVENTS} events in ${p.eventsMs} ms, ${CALLS} calls in ${p.callsMs} ms (part ${p.ms} ms)`);
    return p;
  };
  const streamPart = (name: string): StreamPart => {
    const p = results()[name] as StreamPart | undefined;
    if (!p) throw new Error(`part ${name} did not run; console tail:\n${run.console.slice(-3000)}`);
    if (!p.ok) throw new Error(`part ${name} failed in the guest: ${p.error}`);
    console.log(
      `[vm] engine ${name}: ${p.direction} of ${STREAM_BYTES} bytes in ${p.streamMs} ms (${p.mbPerSecond} MB/s), sha256 ${p.received.sha256.slice(0, 16)}…`,
    );
    return p;
  };
  const expectIntact = (p: StreamPart) => {
    expect(p.sent.bytes).toBe(STREAM_BYTES);
    expect(p.sent.chunks).toBe(STREAM_BYTES / (64 * 1024));
    expect(p.received).toEqual(p.sent);
    expect(p.received.sha256).toMatch(/^[0-9a-f]{64}$/);
  };
  const expectTraffic = (p: Part) => {
    expect(p.eventsReceived).toBe(EVENTS);
    expect(p.eventsInOrder).toBe(true);
    expect(p.callsOk).toBe(CALLS);
    expect(p.reverseCallsOk).toBe(REVERSE_CALLS);
    expect(p.connects).toBe(1);
    expect(p.serverPeer.name).toBe('guest-client');
    expect(p.clientPeer?.name).toBe('guest-server');
  };

  beforeAll(async () => {
    const missing = BUILT.filter((f) => !existsSync(f));
    if (missing.length > 0) throw new Error(`build first (npm run build): the guest runs the built packages; missing ${missing.join(', ')}`);
    run = await runInGuest({ commands: ['node test/vm/guest/engine-transports.mjs'], timeoutMs: 600_000 });
    console.log(`[vm] engine guest run: ${run.durationMs} ms, exit codes ${JSON.stringify(run.exitCodes)}`);
  }, 630_000);

  it('runs the guest script to completion, exiting by itself (nothing leaked)', () => {
    expect(run.results['engine-transports-exit'], 'engine-transports-exit').toBeUndefined();
    expect(run.exitCodes).toEqual([0]);
    expect(results()).toMatchObject({ done: true, events: EVENTS, calls: CALLS, streamBytes: STREAM_BYTES });
  });

  it('engine over real vsock (CID 1 loopback): events in order, typed calls, peer is vsock with a CID', () => {
    const p = part('vsock');
    expectTraffic(p);
    expect(p.eventTransports).toEqual(['vsock']);
    expect(p.serverPeer).toMatchObject({ transport: 'vsock', cid: 1 });
    expect(p.serverPeer.address).toMatch(/^vsock:\/\/1:\d+$/);
    expect(p.clientPeer).toMatchObject({ transport: 'vsock', cid: 1, address: p.connect });
  });

  it('engine over hybrid vsock, host-initiated (CONNECT/OK through a VMM-like muxer)', () => {
    const p = part('hybridHostInitiated');
    expectTraffic(p);
    expect(p.connect).toMatch(/^hybrid:\/\/\/tmp\/.+\/v\.sock:\d+$/);
    const port = Number(/:(\d+)$/.exec(p.connect)?.[1]);
    // The client dialled hybrid; the server saw the muxer's real vsock connection from CID 1.
    expect(p.clientPeer).toMatchObject({ transport: 'hybrid', cid: null, address: p.connect });
    expect(p.serverPeer).toMatchObject({ transport: 'vsock', cid: 1 });
    expect(p.eventTransports).toEqual(['vsock']);
    expect(p.muxer?.accepted).toBe(1);
    expect(p.muxer?.connectLines).toEqual([`CONNECT ${port}`]);
    expect(p.muxer?.okLines).toHaveLength(1);
    expect(p.muxer?.okLines?.[0]).toMatch(/^OK \d+$/);
    expect(p.muxer?.errors).toEqual([]);
  });

  it('engine over hybrid vsock, guest-initiated (a real vsock connection forwarded to <uds>_<port>)', () => {
    const p = part('hybridGuestInitiated');
    expectTraffic(p);
    expect(p.listen).toMatch(/^hybrid:\/\/\/tmp\/.+\/v\.sock:5103$/);
    expect(p.unixPath).toMatch(/\/v\.sock_5103$/);
    // The server listened on hybrid (no CID on a unix stream); the client dialled real vsock.
    expect(p.serverPeer).toMatchObject({ transport: 'hybrid', cid: null });
    expect(p.eventTransports).toEqual(['hybrid']);
    expect(p.clientPeer).toMatchObject({ transport: 'vsock', cid: 1, address: p.connect });
    expect(p.muxer?.accepted).toBe(1);
    expect(p.muxer?.peers?.[0]).toMatchObject({ transport: 'vsock', cid: 1 });
    expect(p.muxer?.errors).toEqual([]);
  });

  it('a 256 MiB client stream over real vsock arrives intact (sha256 of what was sent = of what was received)', () => {
    const p = streamPart('streamVsock');
    expect(p.direction).toBe('upload');
    expect(p.connect).toMatch(/^vsock:\/\/1:\d+$/);
    expect(p.peerTransport).toBe('vsock');
    expectIntact(p);
  });

  it('a 256 MiB server stream to a hybrid vsock client arrives intact (sha256 of what was sent = of what was received)', () => {
    const p = streamPart('streamHybrid');
    expect(p.direction).toBe('download');
    expect(p.connect).toMatch(/^hybrid:\/\/\/tmp\/.+\/s\.sock:\d+$/);
    expect(p.peerTransport).toBe('hybrid');
    expectIntact(p);
    expect(p.muxer?.accepted).toBe(1);
    expect(p.muxer?.errors).toEqual([]);
  });
});

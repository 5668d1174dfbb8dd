/**
 * Clean-room interoperability: a Python peer written from PROTOCOL.md alone
 * (test/interop/python/vsockrpc_peer.py) against the real ServerEngine, over unix sockets.
 * The peer prints one JSON object per step; bigint values arrive as decimal strings.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEngine, RpcError, ServerEngine } from '@vsock-rpc/engine';
import { exampleRegistry } from '@vsock-rpc/wire/examples';
import { streamExampleRegistry } from './stream-registry.js';

type Reg = typeof exampleRegistry;
type Step = Record<string, any> & { step: string };

const PEER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', 'vsockrpc_peer.py');
const N_EVENTS = 1000;

// The scenario's data, mirrored from the Python peer's event_value(): int64 timestamps spread
// over the whole range (negative ones included), strings of 1..65 BMP characters.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzé✓Ω-0123456789';
function eventValue(i: number): { timestamp: bigint; str: string } {
  const start = i % ALPHABET.length;
  return { timestamp: BigInt.asIntN(64, BigInt(i) * 0x9e3779b97f4a7c15n), str: ALPHABET.repeat(3).slice(start, start + 1 + (i % 65)) };
}

// python3 is part of this machine's toolchain (node-gyp needs it): its absence must fail every
// test here with this message, not skip them (vitest reports a throwing beforeAll as skipped).
const py = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const PYTHON_MISSING = py.error || py.status !== 0 ? `python3 is required by the interop test and could not be run: ${py.error?.message ?? py.stderr}` : null;

/** Runs the Python peer to completion; resolves with its steps by name. */
function runPeer(...args: string[]): Promise<{ steps: Map<string, Step>; lines: Step[]; code: number | null; stderr: string }> {
  if (PYTHON_MISSING) return Promise.reject(new Error(PYTHON_MISSING));
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(new Error(`cannot run python3 (${err.message}): the interop test needs python3 on PATH`)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Step);
      resolve({ steps: new Map(lines.map((s) => [s.step, s])), lines, code, stderr });
    });
  });
}

const sockPath = (tag: string) => path.join(os.tmpdir(), `vsrpc-interop-${process.pid}-${randomBytes(4).toString('hex')}-${tag}.sock`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('a Python peer written from PROTOCOL.md alone', () => {
  let full: ServerEngine<Reg>; // handles echo and sum
  let echoOnly: ServerEngine<Reg>; // handles echo only: `sum` is UNKNOWN_METHOD there
  const fullPath = sockPath('full');
  const echoOnlyPath = sockPath('echo');
  const received: { type: string; value: any; peer: string }[] = [];
  const aborts: string[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    const logger = { warn: (m: string) => void logs.push(m), info: (m: string) => void logs.push(m) };
    full = await ServerEngine.listen(`unix://${fullPath}`, { registry: exampleRegistry, name: 'ts-server', logger });
    full.on('messageexp', (ev, peer) => void received.push({ type: 'messageexp', value: ev, peer: peer.name }));
    full.on('example0', (ev, peer) => void received.push({ type: 'example0', value: ev, peer: peer.name }));
    full.on('example2', (ev, peer) => void received.push({ type: 'example2', value: ev, peer: peer.name }));
    full.handle('echo', async (req, ctx) => {
      if (req.str !== 'slow') return req;
      // A slow handler for the deadline and cancel probes; records why it was aborted.
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve(req), 1000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          aborts.push((ctx.signal.reason as RpcError)?.code ?? String(ctx.signal.reason));
          reject(ctx.signal.reason);
        });
      });
    });
    full.handle('sum', (req) => ({ total: req.items.reduce((a, i) => a + i.data, 0) }));
    echoOnly = await ServerEngine.listen(`unix://${echoOnlyPath}`, { registry: exampleRegistry, name: 'ts-echo-only', logger: null });
    echoOnly.handle('echo', (req) => req);
  });

  afterAll(async () => {
    await full?.close(500);
    await echoOnly?.close(500);
  });

  it('python3 is available', () => {
    expect(PYTHON_MISSING).toBeNull();
  });

  it("encodes §10's hex dumps byte for byte, and the spec's registry text hashes to the engine's fingerprint", async () => {
    const { steps, code, stderr } = await runPeer('selftest');
    const s = steps.get('selftest');
    expect(s, stderr).toBeDefined();
    expect(s!.frames).toEqual({ 'small-frame': true, 'request-frame': true, 'error-frame': true, 'large-frame': true });
    expect(s!.canonicalRoundTrip).toBe(true); // our canonical JSON reproduces §10's text
    expect(s!.canonicalBytes).toBe(2930);
    expect(s!.fingerprint).toBe(exampleRegistry.fingerprint);
    expect(s!.statedFingerprint).toBe(exampleRegistry.fingerprint);
    expect(s!.types).toEqual(exampleRegistry.summary.map((e) => [e.id, e.name, e.kind === 'message' ? 'm' : 'r', e.hash]));
    expect(code).toBe(0);
  });

  it('runs the whole scenario: HELLO, events, calls both ways, errors, PING, clock, graceful close', async () => {
    received.length = 0;
    const run = runPeer('scenario', fullPath, '--events', String(N_EVENTS), '--serve-calls', '2');
    // Server → client calls (§1: both sides make calls), once the Python peer is connected.
    await waitFor(() => full.peers().some((p) => p.context.name === 'python-peer'), 'the Python peer to connect');
    const peer = full.peers().find((p) => p.context.name === 'python-peer')!;
    const [echoed, summed] = await Promise.all([
      peer.call('echo', { timestamp: -5n, str: 'from the server ✓' }, { timeoutMs: 10_000 }),
      peer.call(
        'sum',
        {
          items: [
            { data: 40, strvec: [] },
            { data: 2, strvec: [{ str: 'q' }] },
          ],
        },
        { timeoutMs: 10_000 },
      ),
    ]);
    expect(echoed).toEqual({ timestamp: -5n, str: 'from the server ✓' });
    expect(summed).toEqual({ total: 42 });

    const { steps, lines, code, stderr } = await run;
    expect(code, `${stderr}\n${JSON.stringify(lines)}`).toBe(0);

    const hs = steps.get('handshake')!;
    expect(hs.ok).toBe(true);
    expect(hs.version).toBe(1);
    expect(hs.fingerprint).toBe(exampleRegistry.fingerprint);
    expect(hs.typesMatch).toBe(true);
    expect(hs.peerName).toBe('ts-server');

    // Events: in order, exact (bigint) values, the schema-breaking one dropped, the large one intact.
    await waitFor(() => received.length >= N_EVENTS + 1, 'every event to arrive');
    const exps = received.filter((r) => r.type === 'messageexp');
    expect(exps.map((r) => r.value)).toEqual(Array.from({ length: N_EVENTS }, (_, i) => eventValue(i)));
    expect(exps.every((r) => typeof r.value.timestamp === 'bigint' && r.peer === 'python-peer')).toBe(true);
    const large = received.filter((r) => r.type === 'example0');
    expect(large.map((r) => r.value)).toEqual([{ str: 'A'.repeat(5000) }]);
    expect(received.at(-1)!.type).toBe('example0'); // sent last, delivered last
    // §6: the schema-breaking event is dropped (and reported), the connection lives on.
    expect(logs.filter((l) => /dropped/.test(l) && /messageexp/.test(l) && /python-peer/.test(l))).toHaveLength(1);

    for (const [name, ts] of [
      ['echo', -(2n ** 63n)],
      ['echo-deadline', 2n ** 63n - 1n],
      ['echo-small-int64', 42n],
    ] as const) {
      const e = steps.get(name)!;
      expect(e.outcome, name).toBe('response');
      expect(e.equal, name).toBe(true);
      expect(BigInt(e.response.timestamp), name).toBe(ts);
      expect(e.timestampIsInt64, `${name}: bigint travels as int 64 (§3)`).toBe(true);
    }
    expect(steps.get('echo-deadline')!.deadlineMs).toBe(250);

    const sum = steps.get('sum')!;
    expect(sum.outcome).toBe('response');
    expect(sum.total).toBe(3 * 2147483647 - 2147483648 + 7);
    expect(sum.total).toBe(sum.expected);

    const inv = steps.get('invalid-argument')!;
    expect(inv.outcome).toBe('error');
    expect(inv.error.code).toBe('INVALID_ARGUMENT');
    expect(inv.error.details).toEqual({ path: '/str' });

    expect(steps.get('ping')!.ok).toBe(true);

    const clock = steps.get('clock')!;
    expect(clock.ok).toBe(true);
    expect(clock.samples).toBe(16);
    expect(clock.causal).toBe(true); // one clock on both ends: T1 ≤ T1' ≤ T2' ≤ T2 in every sample
    // Both ends read the same CLOCK_MONOTONIC: the offset is ~0 within the error bound, so a
    // sign or field-order mistake (T1' vs T2') would show as milliseconds. Correctness, not speed.
    expect(Math.abs(clock.offsetNs)).toBeLessThan(5_000_000);
    expect(clock.delayNs).toBeGreaterThanOrEqual(0);

    const served = steps.get('server-calls')!.served as any[];
    expect(served.map((s) => s.method).sort()).toEqual(['echo', 'sum']);

    const close = steps.get('close')!;
    expect(close.eof).toBe(true);
    await waitFor(() => !full.peers().some((p) => p.context.name === 'python-peer'), 'the server to forget the Python peer');
  });

  it('a registry method without a handler is UNKNOWN_METHOD, and the connection lives on', async () => {
    const { steps, code, stderr } = await runPeer('unhandled', echoOnlyPath);
    expect(code, stderr).toBe(0);
    const u = steps.get('unhandled')!;
    expect(u.outcome).toBe('error');
    expect(u.error.code).toBe('UNKNOWN_METHOD');
    expect(steps.get('after-unhandled')!.outcome).toBe('response');
  });

  describe('misbehaving Python peers get a GOAWAY; a TS client on the same server is not affected', () => {
    let client: ClientEngine<Reg>;
    let stop = false;
    let ok = 0;
    const failures: unknown[] = [];
    let loop: Promise<void>;

    beforeAll(async () => {
      client = await ClientEngine.connect(`unix://${fullPath}`, { registry: exampleRegistry, name: 'ts-client', logger: null, reconnect: false });
      loop = (async () => {
        for (let i = 0; !stop; i++) {
          try {
            const r = await client.call('echo', { timestamp: BigInt(i), str: 'ts' }, { timeoutMs: 10_000 });
            if (r.timestamp === BigInt(i)) ok++;
            else failures.push(r);
          } catch (err) {
            failures.push(err);
          }
          await sleep(2);
        }
      })();
    });

    afterAll(async () => {
      stop = true;
      await loop;
      await client?.close(500);
    });

    const cases: [string, string | null][] = [
      ['bad-hello', 'HELLO_MISMATCH'],
      ['bad-version', 'HELLO_MISMATCH'],
      ['before-hello', 'PROTOCOL_ERROR'],
      ['bad-kind', 'PROTOCOL_ERROR'],
      ['bad-flags', 'PROTOCOL_ERROR'],
      ['deadline-on-event', 'PROTOCOL_ERROR'],
      ['unknown-event', 'PROTOCOL_ERROR'],
      ['unknown-control', 'PROTOCOL_ERROR'],
      ['bad-clock-payload', 'PROTOCOL_ERROR'],
      ['call-id-zero', 'PROTOCOL_ERROR'],
      ['oversized-hello', 'FRAME_TOO_LARGE'],
      ['oversized', 'FRAME_TOO_LARGE'],
      ['truncated', null], // the stream ends mid-frame: the server just closes (TRUNCATED_FRAME)
    ];
    it.each(cases)('%s → GOAWAY %s, then the server closes', async (what, goawayCode) => {
      const before = ok;
      const { steps, code, stderr } = await runPeer('misbehave', fullPath, what);
      expect(code, stderr).toBe(0);
      const m = steps.get('misbehave')!;
      expect(m.goaway?.code ?? null, JSON.stringify(m)).toBe(goawayCode);
      if (goawayCode) expect(typeof m.goaway.message).toBe('string');
      // Before HELLO the limit is fixed by the protocol: the message must not suggest raising maxFrame.
      if (what === 'oversized-hello') expect(m.goaway.message).toContain('limit of a HELLO');
      expect(m.eof).toBe(true);
      if (what === 'bad-hello') {
        // §5: the message names the entries whose hash differs (we changed messageexp only).
        expect(m.goaway.message).toContain('messageexp');
        expect(m.goaway.message).not.toContain('example0');
      }
      await waitFor(() => ok > before + 2, 'the TS client to keep getting answers');
      expect(failures).toEqual([]);
      expect(full.peers().map((p) => p.context.name)).toContain('ts-client');
    });
  });

  describe('edge cases PROTOCOL.md settles in a sentence (§3, §6): the engine does what it says', () => {
    // [probe, outcome, error code]
    const probes: [string, string, string?][] = [
      ['bigint-as-fixint', 'error', 'INVALID_ARGUMENT'], // §3 MUST int 64: a fixint is not a bigint
      ['uint64', 'response'], // 2^64-1 as uint 64, echoed intact
      ['astral-length', 'error', 'INVALID_ARGUMENT'], // maxLength counts UTF-16 units, not code points
      ['extra-property', 'response'], // unknown properties are allowed
      ['integer-as-float64', 'response'], // §3: integers may travel as float 64
      ['fractional-integer', 'error', 'INVALID_ARGUMENT'],
      ['integer-as-int64', 'error', 'INVALID_ARGUMENT'], // §3 MUST NOT: an int 64 is not an integer
      ['nil-optional', 'response'], // the nil one is dropped, see below
      ['deadline-exceeded', 'error', 'DEADLINE_EXCEEDED'], // the responder answers it itself
      ['unregistered-method', 'error', 'UNKNOWN_METHOD'], // unlike an unknown EVENT id: no GOAWAY
      ['message-id-as-method', 'error', 'UNKNOWN_METHOD'],
      ['trailing-bytes', 'error', 'INVALID_ARGUMENT'],
      ['goaway-in-flight', 'response'], // our GOAWAY does not cancel our call in flight
    ];
    it.each(probes.map(([n, o, c]) => [n, o, c ?? ''] as const))('%s → %s %s', async (name, outcome, errorCode) => {
      received.length = 0;
      const { steps, code, stderr, lines } = await runPeer('probe', fullPath, name);
      expect(code, stderr).toBe(0);
      const p = steps.get('probe')!;
      expect(p.outcome, JSON.stringify(lines)).toBe(outcome);
      if (errorCode) expect(p.value.code).toBe(errorCode);
      if (name !== 'goaway-in-flight') expect(p.aliveAfter).toBe(true);
      if (name === 'uint64') expect(BigInt(p.value.timestamp)).toBe(2n ** 64n - 1n);
      if (name === 'bigint-as-fixint') expect(p.value.details).toEqual({ path: '/timestamp' });
      if (name === 'deadline-exceeded') expect(aborts).toContain('DEADLINE_EXCEEDED');
      if (name === 'nil-optional') {
        // §3 says an absent optional is never nil: the event with `ptr: nil` is dropped as a schema violation.
        expect(received.filter((r) => r.type === 'example2').map((r) => r.value)).toEqual([
          { data: 2, strvec: [] },
          { data: 3, strvec: [], ptr: 1.5 },
        ]);
      }
    });

    it('cancel: the handler is aborted with CANCELLED; the responder may send nothing (§4)', async () => {
      const { steps, code, stderr } = await runPeer('probe', fullPath, 'cancel');
      expect(code, stderr).toBe(0);
      const p = steps.get('probe')!;
      expect(['timeout', 'error']).toContain(p.outcome);
      if (p.outcome === 'error') expect(p.value.code).toBe('CANCELLED');
      expect(aborts).toContain('CANCELLED');
      expect(p.aliveAfter).toBe(true);
    });

    // [variant, accepted?, GOAWAY code when refused]
    const hellos: [string, boolean, string?][] = [
      ['no-features', true], // the only optional key
      ['empty-types', true], // acceptance is version + fingerprint only
      ['unknown-key', true],
      ['float-maxFrame', true],
      ['minimal', false, 'PROTOCOL_ERROR'],
      ['no-name', false, 'PROTOCOL_ERROR'],
      ['no-maxFrame', false, 'PROTOCOL_ERROR'],
      ['no-inlineLimit', false, 'PROTOCOL_ERROR'],
      ['no-types', false, 'PROTOCOL_ERROR'],
      ['long-name', false, 'PROTOCOL_ERROR'], // name ≤ 256
      ['small-maxFrame', false, 'PROTOCOL_ERROR'], // maxFrame ≥ 1024
      ['upper-fingerprint', false, 'HELLO_MISMATCH'], // "lowercase hex": compared as a string
      ['huge', false, 'FRAME_TOO_LARGE'], // a HELLO above 65 536 bytes
    ];
    it.each(hellos.map(([v, a, c]) => [v, a, c ?? ''] as const))('HELLO %s → accepted: %s %s', async (variant, accepted, goawayCode) => {
      const { steps, code, stderr } = await runPeer('hello', fullPath, variant);
      expect(code, stderr).toBe(0);
      const h = steps.get('hello')!;
      if (accepted) {
        expect(h.outcome, JSON.stringify(h)).toBe('response');
      } else {
        expect(h.outcome, JSON.stringify(h)).toBe('goaway');
        expect(h.value.code).toBe(goawayCode);
      }
    });
  });

  it("the server's graceful close sends GOAWAY SHUTDOWN after its call in flight is answered", async () => {
    const p = sockPath('closing');
    const closing = await ServerEngine.listen(`unix://${p}`, { registry: exampleRegistry, name: 'ts-closing', logger: null });
    try {
      const run = runPeer('linger', p, '--seconds', '10');
      await waitFor(() => closing.peers().length === 1, 'the Python peer to connect');
      const inflight = closing.peers()[0]!.call('echo', { timestamp: 9n, str: 'during close' }, { timeoutMs: 10_000 });
      await closing.close(2000);
      expect(await inflight).toEqual({ timestamp: 9n, str: 'during close' });
      const { steps, code, stderr } = await run;
      expect(code, stderr).toBe(0);
      const got = steps.get('linger')!.received as any[];
      expect(got.find((f) => f !== 'eof' && f.type === 0xff04)?.payload.code).toBe('SHUTDOWN');
      expect(got.at(-1)).toBe('eof');
    } finally {
      await closing.close(100).catch(() => {});
    }
  });
});

describe('the Python peer opens and consumes a stream with credit (PROTOCOL.md §11)', () => {
  let server: ServerEngine<typeof streamExampleRegistry>;
  let sock: string;
  beforeAll(async () => {
    sock = sockPath('stream');
    server = await ServerEngine.listen(`unix://${sock}`, { registry: streamExampleRegistry, name: 'ts-stream-server', logger: null });
    server.handleStream('lines', async function* (req) {
      for (let i = 0; i < req.n; i++) yield { i, text: `line ${i}` };
    });
  });
  afterAll(async () => {
    await server?.close(500);
  });

  it('500 responses through a 1 KiB window: every one in order, WINDOWs granted, no frame beyond credit', async () => {
    const { steps, code, stderr } = await runPeer('stream', sock, '--n', '500', '--window', '1024');
    const s = steps.get('stream');
    expect(s, stderr).toBeDefined();
    expect(s).toMatchObject({ ok: true, items: 500, inOrder: true, violations: 0, end: true, reset: null, last: { i: 499, text: 'line 499' } });
    expect(s!.windows).toBeGreaterThan(10); // the server had to wait for our credit, many times
    expect(code).toBe(0);
  });
});

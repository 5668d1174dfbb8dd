/**
 * Metric labels come from the registry and fixed lists, never from the peer (issue 11, item 6):
 * a hostile peer sending thousands of distinct TYPE_ ids and error codes over a real socket
 * adds no series; what it sent is counted under `unknown` / `OTHER`.
 */
import { describe, expect, it } from 'vitest';
import { CONTROL_NAMES, ControlType, Kind, encodeErrorPayload, encodeFrame, pack } from '@vsock-rpc/wire';
import { RpcError } from '../src/index.js';
import { EngineMetrics } from '../src/metrics.js';
import { DROP_REASONS, KNOWN_ERROR_CODES } from '../src/metrics.js';
import { helloFrame, metricValue, promRegistry, rawConnect, rejectionOf, startPair, startServer, testRegistry, urlOf, useCleanup, waitFor } from './helpers.js';

useCleanup();

/** Sample lines of the exposition (not comments), and the distinct label values of `label`. */
async function series(prom: ReturnType<typeof promRegistry>): Promise<{ lines: string[]; values(metric: string, label: string): Set<string> }> {
  const lines = (await prom.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  return {
    lines,
    values: (metric, label) => new Set(lines.filter((l) => l.startsWith(`${metric}{`)).map((l) => new RegExp(`[{,]${label}="([^"]*)"`).exec(l)?.[1] ?? '')),
  };
}

const registryNames = new Set(testRegistry.summary.map((s) => s.name));

describe('metric labels under a hostile peer (unix socket)', () => {
  it('REQUESTs to thousands of undeclared ids add no series: they count as type="unknown"', async () => {
    const prom = promRegistry();
    const server = await startServer('unix', { promRegistry: prom });
    const peer = await rawConnect(urlOf(server));
    peer.write(helloFrame());
    await waitFor(() => server.peers().length === 1, 'the handshake');
    const ids = 3000;
    const frames: Buffer[] = [];
    // Undeclared ids of the registry's range (the test registry uses 4 … 104).
    for (let i = 0; i < ids; i++) frames.push(encodeFrame(Kind.REQUEST, 1000 + i, i + 1, pack({})));
    peer.write(Buffer.concat(frames));
    await peer.frame((f) => f.kind === Kind.ERROR && f.id === ids, 'the answer to the last request');
    expect(await metricValue(prom, 'vsockrpc_frames_total', { role: 'server', direction: 'in', kind: 'request', type: 'unknown' })).toBe(ids);
    expect(await metricValue(prom, 'vsockrpc_frames_total', { direction: 'out', kind: 'error', type: 'unknown' })).toBe(ids);
    expect(await metricValue(prom, 'vsockrpc_bytes_total', { direction: 'in', type: 'unknown' })).toBe(ids * (12 + 1));
    const s = await series(prom);
    const controlNames = new Set(Object.values(CONTROL_NAMES));
    for (const v of s.values('vsockrpc_frames_total', 'type')) expect(registryNames.has(v) || v === 'unknown' || controlNames.has(v)).toBe(true);
    // The series published at 0 from the start (each known type under its kinds, both ways),
    // plus in/out × (request unknown, error unknown): a fixed number, not thousands.
    const zeroSeries = 2 * (controlNames.size + testRegistry.summary.reduce((n, e) => n + (e.kind === 'message' ? 1 : e.kind === 'method' ? 3 : 4), 0));
    expect(s.lines.filter((l) => l.startsWith('vsockrpc_frames_total{')).length).toBeLessThanOrEqual(zeroSeries + 4);
    expect(s.lines.length).toBeLessThan(zeroSeries + 200);
  });

  it('GOAWAY codes chosen by peers count as OTHER in errors_total; known codes keep their name', async () => {
    const prom = promRegistry();
    const server = await startServer('unix', { promRegistry: prom });
    const peers = 60;
    let closed = 0;
    server.on('peerError', () => void closed++);
    for (let i = 0; i < peers; i++) {
      const p = await rawConnect(urlOf(server));
      // GOAWAY in place of HELLO (PROTOCOL.md §5): the code is the peer's choice.
      p.write(encodeFrame(Kind.CONTROL, ControlType.GOAWAY, 0, encodeErrorPayload({ code: i === 0 ? 'SHUTDOWN' : `EVIL_${i}\n{x="y"}`, message: 'bye' })));
    }
    await waitFor(() => closed === peers, 'every refused handshake');
    expect(server.metrics.errors()['OTHER']).toBe(peers - 1);
    expect(server.metrics.errors()['SHUTDOWN']).toBe(1);
    expect(await metricValue(prom, 'vsockrpc_errors_total', { role: 'server', code: 'OTHER' })).toBe(peers - 1);
    const codes = (await series(prom)).values('vsockrpc_errors_total', 'code');
    for (const c of codes) expect(KNOWN_ERROR_CODES.has(c)).toBe(true);
  });

  it('ERROR codes of answers to our calls count as OTHER in call_duration_seconds unless declared in metricCodes', async () => {
    const prom = promRegistry();
    const server = await startServer('unix', { promRegistry: prom, metricCodes: ['NOT_FOUND'] });
    const peer = await rawConnect(urlOf(server));
    peer.write(helloFrame());
    await waitFor(() => server.peers().length === 1, 'the handshake');
    let answered = 0;
    // The raw peer answers every REQUEST with an ERROR whose code it makes up (or NOT_FOUND).
    peer.socket.on('data', () => {
      for (const f of peer.frames.splice(0)) {
        if (f.kind !== Kind.REQUEST) continue;
        const code = f.id % 10 === 0 ? 'NOT_FOUND' : `APP_${f.id}`;
        peer.write(encodeFrame(Kind.ERROR, f.type, f.id, encodeErrorPayload({ code, message: 'no' })));
        answered++;
      }
    });
    const handle = server.peers()[0]!;
    const calls = 500;
    const results = await Promise.all(Array.from({ length: calls }, (_, i) => rejectionOf(handle.call('add', { a: i, b: 0 }))));
    expect(results.every((e) => e instanceof RpcError)).toBe(true);
    expect(answered).toBe(calls);
    const notFound = results.filter((e) => (e as RpcError).code === 'NOT_FOUND').length;
    expect(await metricValue(prom, 'vsockrpc_call_duration_seconds_count', { role: 'server', method: 'add', code: 'NOT_FOUND' })).toBe(notFound);
    expect(await metricValue(prom, 'vsockrpc_call_duration_seconds_count', { method: 'add', code: 'OTHER' })).toBe(calls - notFound);
    const codes = (await series(prom)).values('vsockrpc_call_duration_seconds_count', 'code');
    expect([...codes].sort()).toEqual(['NOT_FOUND', 'OTHER']);
  });
});

describe('EngineMetrics label bounds', () => {
  it('every label of every metric is bounded: series stay within registry × fixed label sets', async () => {
    const prom = promRegistry();
    const m = new EngineMetrics(testRegistry, { promRegistry: prom, labels: { role: 'server' } });
    m.sources = {
      dropped: () => ({ oldest: 1, newest: 2, rejected: 3 }),
      evicted: () => ({ handshake: 4, idle: 5 }),
      connections: () => 1,
      queueDepth: () => 0,
    };
    // Every kind of PROTOCOL.md §2 (0 … 8, streams included) and bytes no kind has (9, 0x80, 0xff).
    const kinds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x80, 0xff];
    for (let t = 0; t <= 0xffff; t++) {
      for (const kind of kinds) {
        m.frameIn(t, kind, 12);
        m.frameOut(t, kind, 12);
      }
    }
    for (let i = 0; i < 5000; i++) {
      m.error(`CODE_${i}`);
      m.callDone('add', 0.001, `CODE_${i}`);
      m.callDone(`method_${i}`, 0.001, 'OK');
    }
    const s = await series(prom);
    const types = testRegistry.summary.length + 7 + 1; // registry + control types + unknown
    // Rows of `kind`: the nine kinds by name, and `unknown` for any other byte.
    const kindLabels = ['control', 'event', 'request', 'response', 'error', 'open', 'data', 'window', 'reset', 'unknown'];
    expect(s.values('vsockrpc_frames_total', 'kind')).toEqual(new Set(kindLabels));
    expect(s.lines.filter((l) => l.startsWith('vsockrpc_frames_total{')).length).toBe(2 * kindLabels.length * types);
    expect(s.lines.filter((l) => l.startsWith('vsockrpc_bytes_total{')).length).toBe(2 * types);
    // OTHER, plus the codes published at 0 from the start; never a code the peer made up.
    for (const code of s.values('vsockrpc_errors_total', 'code')) expect(code === 'OTHER' || KNOWN_ERROR_CODES.has(code), code).toBe(true);
    expect(s.values('vsockrpc_call_duration_seconds_count', 'method')).toEqual(new Set(['add', 'unknown']));
    expect(s.values('vsockrpc_dropped_events_total', 'reason')).toEqual(new Set(DROP_REASONS));
    expect(s.values('vsockrpc_connections_evicted_total', 'reason')).toEqual(new Set(['handshake', 'idle']));
    expect(await metricValue(prom, 'vsockrpc_frames_total', { direction: 'in', kind: 'request', type: 'unknown' })).toBe(0x10000 - types + 1);
    expect(await metricValue(prom, 'vsockrpc_frames_total', { direction: 'in', kind: 'unknown', type: 'echo' })).toBe(3);
    expect(await metricValue(prom, 'vsockrpc_frames_total', { direction: 'in', kind: 'data', type: 'echo' })).toBe(1);
    expect(await metricValue(prom, 'vsockrpc_frames_total', { direction: 'out', kind: 'reset', type: 'unknown' })).toBe(0x10000 - types + 1);
    expect(await metricValue(prom, 'vsockrpc_frames_total', { direction: 'out', kind: 'control', type: 'GOAWAY' })).toBe(1);
    expect(m.errors()).toEqual({ OTHER: 5000 });
  });

  it('a known code keeps its name; an application code keeps it only when declared', () => {
    const m = new EngineMetrics(testRegistry, { codes: ['NOT_FOUND'] });
    for (const c of ['CONNECTION_LIMIT', 'ECONNRESET', 'NOT_FOUND', 'SHUTDOWN', 'NOPE']) m.error(c);
    expect(m.errors()).toEqual({ CONNECTION_LIMIT: 1, ECONNRESET: 1, NOT_FOUND: 1, SHUTDOWN: 1, OTHER: 1 });
    // The codes streams use (PROTOCOL.md §11) are known too.
    for (const c of ['UNIMPLEMENTED', 'FLOW_CONTROL', 'STREAM_STATE']) expect(m.codeLabel(c)).toBe(c);
    expect(m.codeLabel('PROTOCOL_ERROR')).toBe('PROTOCOL_ERROR');
    expect(m.codeLabel('x'.repeat(1000))).toBe('OTHER');
  });

  it('a server and client still label their own registry traffic by name', async () => {
    const prom = promRegistry();
    const { server, client } = await startPair('unix', { promRegistry: prom });
    server.handle('fail', () => {
      throw new RpcError('UNKNOWN_METHOD', 'a known code from a handler');
    });
    await rejectionOf(client.call('fail', { message: 'x' }));
    expect(await metricValue(prom, 'vsockrpc_frames_total', { role: 'server', direction: 'out', kind: 'error', type: 'fail' })).toBe(1);
  });
});

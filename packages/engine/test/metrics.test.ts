/** Metrics: a real prom-client Registry, the text exposition after traffic, hdr-histogram latency. */
import { describe, expect, it } from 'vitest';
import { pack } from '@vsock-rpc/wire';
import { MetricsConflictError, RpcError, ServerEngine } from '../src/index.js';
import { EngineMetrics } from '../src/metrics.js';
import {
  TRANSPORTS,
  connectClient,
  listenAddress,
  metricValue,
  promRegistry,
  rejectionOf,
  startPair,
  startServer,
  testRegistry,
  urlOf,
  useCleanup,
  waitFor,
} from './helpers.js';

useCleanup();

describe.each(TRANSPORTS)('metrics over %s', (transport) => {
  it('frames, bytes, calls, queue depth, drops, connections and rtt show up in the exposition text', async () => {
    const serverProm = promRegistry();
    const clientProm = promRegistry();
    const { server, client } = await startPair(
      transport,
      { promRegistry: serverProm },
      { promRegistry: clientProm, metricCodes: ['NOT_FOUND'], queue: { maxEvents: 16, policy: 'drop-newest' } },
    );
    server.handle('add', async (r) => {
      await new Promise((res) => setTimeout(res, 2));
      return { sum: r.a + r.b };
    });
    server.handle('fail', () => {
      throw new RpcError('NOT_FOUND', 'nope');
    });
    let seqs = 0;
    server.on('seq', () => void seqs++);
    // 10 events, one batch.
    for (let n = 0; n < 10; n++) void client.send('seq', { n });
    await waitFor(() => seqs === 10, 'the events');
    // 40 events in one tick into a queue of 16: 24 dropped (newest).
    for (let n = 0; n < 40; n++) void client.send('seq', { n });
    await waitFor(() => seqs === 26, 'the events that fit');
    for (let i = 0; i < 20; i++) await client.call('add', { a: i, b: 1 });
    await rejectionOf(client.call('fail', { message: 'x' }));
    await client.connection!.ping();

    const text = await clientProm.metrics();
    // frames_total / bytes_total per type name
    expect(await metricValue(clientProm, 'vsockrpc_frames_total', { role: 'client', direction: 'out', kind: 'event', type: 'seq' })).toBe(26);
    expect(await metricValue(serverProm, 'vsockrpc_frames_total', { role: 'server', direction: 'in', kind: 'event', type: 'seq' })).toBe(26);
    expect(await metricValue(clientProm, 'vsockrpc_frames_total', { direction: 'out', kind: 'request', type: 'add' })).toBe(20);
    expect(await metricValue(clientProm, 'vsockrpc_frames_total', { direction: 'in', kind: 'response', type: 'add' })).toBe(20);
    expect(await metricValue(clientProm, 'vsockrpc_frames_total', { direction: 'in', kind: 'error', type: 'fail' })).toBe(1);
    expect(await metricValue(clientProm, 'vsockrpc_frames_total', { direction: 'out', kind: 'control', type: 'HELLO' })).toBe(1);
    expect(await metricValue(clientProm, 'vsockrpc_frames_total', { direction: 'in', kind: 'control', type: 'HELLO' })).toBe(1);
    expect(await metricValue(clientProm, 'vsockrpc_frames_total', { direction: 'out', kind: 'control', type: 'PING' })).toBe(1);
    expect(await metricValue(serverProm, 'vsockrpc_frames_total', { direction: 'out', kind: 'control', type: 'PONG' })).toBe(1);
    const seqBytes = 12 + pack({ n: 0 }).length; // every n < 128 is one msgpack byte
    expect(await metricValue(serverProm, 'vsockrpc_bytes_total', { direction: 'in', type: 'seq' })).toBe(26 * seqBytes);
    expect(await metricValue(clientProm, 'vsockrpc_bytes_total', { direction: 'out', type: 'seq' })).toBe(26 * seqBytes);
    // call_duration_seconds histogram, with the engine's role like every other metric
    expect(text).toMatch(/^vsockrpc_call_duration_seconds_bucket\{.*le="0\.1".*\} \d+$/m);
    expect(await metricValue(clientProm, 'vsockrpc_call_duration_seconds_count', { role: 'client', method: 'add', code: 'OK' })).toBe(20);
    expect(await metricValue(clientProm, 'vsockrpc_call_duration_seconds_bucket', { method: 'add', code: 'OK', le: '+Inf' })).toBe(20);
    expect(await metricValue(clientProm, 'vsockrpc_call_duration_seconds_count', { method: 'fail', code: 'NOT_FOUND' })).toBe(1);
    expect((await metricValue(clientProm, 'vsockrpc_call_duration_seconds_sum', { method: 'add', code: 'OK' }))!).toBeGreaterThan(0);
    // queue depth and drops
    expect(await metricValue(clientProm, 'vsockrpc_queue_depth', { role: 'client' })).toBe(0);
    expect(await metricValue(clientProm, 'vsockrpc_dropped_events_total', { reason: 'newest' })).toBe(24);
    expect(client.stats().queue.droppedNewest).toBe(24);
    expect(await metricValue(serverProm, 'vsockrpc_queue_depth')).toBe(0);
    expect(await metricValue(serverProm, 'vsockrpc_connections')).toBe(1);
    expect(await metricValue(clientProm, 'vsockrpc_connections')).toBe(1);
    expect((await metricValue(clientProm, 'vsockrpc_rtt_seconds'))!).toBeGreaterThan(0);
    // latency percentiles from hdr-histogram, in µs
    const lat = client.latency();
    expect(lat.count).toBe(21);
    expect(lat.p50).toBeGreaterThan(0);
    // (hdr-histogram-js rounds percentiles to bucket edges: not strictly monotonic at ±1 µs)
    expect(lat.p90).toBeGreaterThan(0);
    expect(lat.p99).toBeGreaterThan(0);
    expect(lat.max).toBeGreaterThanOrEqual(lat.p50 * 0.99);
    expect(client.metrics.totals().framesOut).toBeGreaterThanOrEqual(26 + 20 + 1 + 1 + 1);
  });

  it('the server counts drops of its per-peer queues', async () => {
    const prom = promRegistry();
    const { server, client } = await startPair(transport, { promRegistry: prom, queue: { maxEvents: 8, policy: 'drop-oldest' } });
    const got: number[] = [];
    client.on('seq', (v) => void got.push(v.n));
    const peer = server.peers()[0]!;
    for (let n = 0; n < 20; n++) void peer.send('seq', { n });
    await waitFor(() => got.length === 8, 'the kept events');
    expect(got).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
    expect(await metricValue(prom, 'vsockrpc_dropped_events_total', { reason: 'oldest' })).toBe(12);
  });
});

describe('one prom registry for several engines', () => {
  it('a server and a client in one process publish into the same registry, told apart by role', async () => {
    const prom = promRegistry();
    const { server, client } = await startPair('unix', { promRegistry: prom }, { promRegistry: prom });
    server.handle('add', (r) => ({ sum: r.a + r.b }));
    for (let i = 0; i < 3; i++) await client.call('add', { a: i, b: 1 });
    // The client wrote 3 REQUESTs and the server read them: the same series name, two roles.
    expect(await metricValue(prom, 'vsockrpc_frames_total', { role: 'client', direction: 'out', kind: 'request', type: 'add' })).toBe(3);
    expect(await metricValue(prom, 'vsockrpc_frames_total', { role: 'server', direction: 'in', kind: 'request', type: 'add' })).toBe(3);
    expect(await metricValue(prom, 'vsockrpc_connections', { role: 'server' })).toBe(1);
    expect(await metricValue(prom, 'vsockrpc_call_duration_seconds_count', { role: 'client', method: 'add', code: 'OK' })).toBe(3);
  });

  it('a second engine of the same role and prefix is refused with METRICS_CONFLICT, leaves nothing bound, and may publish once the first has closed', async () => {
    const prom = promRegistry();
    const first = await startServer('unix', { promRegistry: prom });
    const address = listenAddress('unix');
    const err = await rejectionOf(ServerEngine.listen(address, { registry: testRegistry, logger: null, promRegistry: prom }));
    expect(err).toBeInstanceOf(MetricsConflictError);
    expect((err as MetricsConflictError).code).toBe('METRICS_CONFLICT');
    expect(err.message).toMatch(/metricsPrefix/);
    // The refused engine's address was released: a third engine (own prefix) can bind it.
    const third = await startServer(address, { promRegistry: prom, metricsPrefix: 'other_' });
    expect(urlOf(third)).toBe(address);
    await first.close(100);
    const fourth = await startServer('unix', { promRegistry: prom });
    const c = await connectClient(urlOf(fourth));
    await waitFor(() => fourth.peers().length === 1, 'the client');
    expect(await metricValue(prom, 'vsockrpc_connections', { role: 'server' })).toBe(1);
    await c.close(100);
  });
});

describe('EngineMetrics', () => {
  it('two engines can publish into one prom registry under different prefixes', async () => {
    const prom = promRegistry();
    new EngineMetrics(testRegistry, { promRegistry: prom, prefix: 'a_', labels: { role: 'client' } });
    new EngineMetrics(testRegistry, { promRegistry: prom, prefix: 'b_', labels: { role: 'server' } });
    const text = await prom.metrics();
    expect(text).toContain('a_frames_total');
    expect(text).toContain('b_frames_total');
  });

  it('codes chosen by peers cannot grow the exposition: undeclared ones count as OTHER, declared ones keep their name', async () => {
    const prom = promRegistry();
    const m = new EngineMetrics(testRegistry, { promRegistry: prom, labels: { role: 'client' }, codes: ['APP_CODE_7'] });
    for (let i = 0; i < 1500; i++) {
      m.callDone('add', 0.001, `APP_CODE_${i}`);
      m.error(`PEER_CODE_${i}`);
    }
    const text = await prom.metrics();
    const callSeries = new Set(text.split('\n').filter((l) => l.startsWith('vsockrpc_call_duration_seconds_count')));
    expect(callSeries.size).toBe(2); // APP_CODE_7 + OTHER
    expect(await metricValue(prom, 'vsockrpc_call_duration_seconds_count', { method: 'add', code: 'OTHER' })).toBe(1499);
    expect(await metricValue(prom, 'vsockrpc_call_duration_seconds_count', { method: 'add', code: 'APP_CODE_7' })).toBe(1);
    expect(m.errors()).toEqual({ OTHER: 1500 });
  });

  it('works without a prom registry (snapshot figures only)', () => {
    const m = new EngineMetrics(testRegistry);
    m.callDone('add', 0.0015, 'OK');
    m.error('SHUTDOWN');
    expect(m.latency().count).toBe(1);
    expect(m.latency().p50).toBeGreaterThanOrEqual(1490);
    expect(m.errors()).toEqual({ SHUTDOWN: 1 });
  });
});

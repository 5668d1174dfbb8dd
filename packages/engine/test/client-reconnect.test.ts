/** ClientEngine: reconnect with backoff across a server restart, offline queueing, lifecycle events. */
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff.js';
import type { PeerHandle } from '../src/index.js';
import { connectClient, deferred, metricValue, promRegistry, startServer, tmpSockPath, useCleanup, waitFor, type TestRegistry } from './helpers.js';

useCleanup();

describe('backoffDelay', () => {
  it('grows by the factor from the initial delay, with equal jitter in [d × (1 − jitter), d]', () => {
    const o = { initialDelayMs: 100, maxDelayMs: 10_000, factor: 2, jitter: 0.5 };
    expect(backoffDelay(0, o, () => 0)).toBe(50);
    expect(backoffDelay(0, o, () => 1)).toBe(100);
    expect(backoffDelay(1, o, () => 1)).toBe(200);
    expect(backoffDelay(3, o, () => 1)).toBe(800);
    expect(backoffDelay(3, o, () => 0.5)).toBe(600);
    for (let attempt = 0; attempt < 20; attempt++) {
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, o);
        const base = Math.min(10_000, 100 * 2 ** attempt);
        expect(d).toBeGreaterThanOrEqual(base / 2);
        expect(d).toBeLessThanOrEqual(base);
      }
    }
  });

  it('is capped at maxDelayMs, even for huge attempt numbers', () => {
    const o = { initialDelayMs: 100, maxDelayMs: 3000 };
    expect(backoffDelay(5, o, () => 1)).toBe(3000);
    expect(backoffDelay(1000, o, () => 1)).toBe(3000);
    expect(backoffDelay(1e9, o, () => 0)).toBe(1500);
    expect(Number.isFinite(backoffDelay(1e9, { factor: 10 }, () => 1))).toBe(true);
  });

  it('jitter 0 is deterministic; jitter is clamped to [0, 1]; defaults are 100 ms × 2 up to 10 s', () => {
    expect(backoffDelay(2, { jitter: 0 }, () => 0.123)).toBe(400);
    expect(backoffDelay(2, { jitter: 5 }, () => 0)).toBe(0);
    expect(backoffDelay(2, { jitter: -1 }, () => 0)).toBe(400);
    expect(backoffDelay(0, {}, () => 1)).toBe(100);
    expect(backoffDelay(50, {}, () => 1)).toBe(10_000);
  });

  it('spreads many clients restarted together (jitter really varies)', () => {
    const values = new Set(Array.from({ length: 100 }, () => backoffDelay(4, {})));
    expect(values.size).toBeGreaterThan(50);
  });
});

describe('ClientEngine reconnect (unix, server restarted on the same path)', () => {
  const fast = { initialDelayMs: 10, maxDelayMs: 100 };

  it("reconnects after a restart: events sent while down are delivered (offline 'queue'), lifecycle events fire", async () => {
    const path = tmpSockPath();
    const url = `unix://${path}`;
    const first = await startServer(url);
    const firstGot: number[] = [];
    first.on('seq', (v) => void firstGot.push(v.n));
    const client = await connectClient(url, { reconnect: fast, name: 'roamer' });
    const events: string[] = [];
    const reconnecting: { attempt: number; delayMs: number }[] = [];
    client.on('connected', () => events.push('connected'));
    client.on('disconnected', () => events.push('disconnected'));
    client.on('reconnecting', (r: { attempt: number; delayMs: number }) => {
      events.push('reconnecting');
      reconnecting.push(r);
    });
    expect(client.connectCount).toBe(1);
    for (let n = 0; n < 5; n++) void client.send('seq', { n });
    await waitFor(() => firstGot.length === 5, 'events before the restart');
    await first.close(1000);
    await waitFor(() => !client.connected && events.includes('disconnected'), 'the disconnect');
    // While down: queued.
    for (let n = 5; n < 105; n++) void client.send('seq', { n });
    expect(client.queue.length).toBe(100);
    await waitFor(() => reconnecting.length >= 2, 'a few reconnect attempts');
    const second = await startServer(url);
    const secondGot: number[] = [];
    const helloFrom = deferred<string>();
    second.on('peer', (p: PeerHandle<TestRegistry>) => helloFrom.resolve(p.context.name));
    second.on('seq', (v) => void secondGot.push(v.n));
    expect(await helloFrom.promise).toBe('roamer'); // a new HELLO, to the new server
    await waitFor(() => secondGot.length === 100, 'the queued events after reconnect');
    expect(secondGot).toEqual(Array.from({ length: 100 }, (_, i) => i + 5));
    expect(client.connectCount).toBe(2);
    expect(client.connected).toBe(true);
    expect(events[0]).toBe('disconnected');
    expect(events.at(-1)).toBe('connected');
    expect(events.filter((e) => e === 'connected')).toHaveLength(1);
    for (const r of reconnecting) expect(r.delayMs).toBeLessThanOrEqual(fast.maxDelayMs);
    expect(reconnecting.map((r) => r.attempt)).toEqual(reconnecting.map((_, i) => i + 1));
    expect(client.stats().queue.droppedOldest + client.stats().droppedOffline).toBe(0);
    // Calls work on the new connection, and the server sees the client again.
    second.handle('add', (r) => ({ sum: r.a + r.b }));
    expect(await client.call('add', { a: 20, b: 22 })).toEqual({ sum: 42 });
  });

  it("offline 'drop': events sent while down are dropped and counted, in stats and metrics", async () => {
    const url = `unix://${tmpSockPath()}`;
    const first = await startServer(url);
    const prom = promRegistry();
    const client = await connectClient(url, { reconnect: fast, offline: 'drop', promRegistry: prom });
    await first.close(1000);
    await waitFor(() => !client.connected, 'the disconnect');
    for (let n = 0; n < 30; n++) void client.send('seq', { n });
    expect(client.queue.length).toBe(0);
    expect(client.stats().droppedOffline).toBe(30);
    const second = await startServer(url);
    const got: number[] = [];
    second.on('seq', (v) => void got.push(v.n));
    await waitFor(() => client.connected, 'the reconnect');
    void client.send('seq', { n: 1000 });
    await waitFor(() => got.length === 1, 'the event after reconnect');
    expect(got).toEqual([1000]);
    expect(await metricValue(prom, 'vsockrpc_dropped_events_total', { reason: 'offline' })).toBe(30);
    const s = client.stats();
    expect(s.queue.droppedOldest + s.queue.droppedNewest + s.droppedOffline).toBe(30);
  });

  it("offline 'drop': events still queued when the connection drops are counted once", async () => {
    const url = `unix://${tmpSockPath()}`;
    const server = await startServer(url);
    const prom = promRegistry();
    const client = await connectClient(url, { reconnect: fast, offline: 'drop', promRegistry: prom });
    const got: number[] = [];
    server.on('seq', (v) => void got.push(v.n));
    for (let n = 0; n < 10; n++) void client.send('seq', { n }); // queued: the writer runs on the next turn
    client.connection!.destroy();
    await waitFor(() => client.connectCount === 2 && client.connected, 'the reconnect');
    const s = client.stats();
    expect(s.queue.droppedOldest + s.queue.droppedNewest + s.droppedOffline).toBe(10);
    const text = await prom.metrics();
    const dropped = [...text.matchAll(/^vsockrpc_dropped_events_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(dropped).toBe(10);
    expect(got).toEqual([]);
  });

  it('a call made while disconnected waits for the reconnect and is answered', async () => {
    const url = `unix://${tmpSockPath()}`;
    const first = await startServer(url);
    const client = await connectClient(url, { reconnect: fast });
    await first.close(1000);
    await waitFor(() => !client.connected, 'the disconnect');
    const call = client.call('add', { a: 1, b: 2 }, { timeoutMs: 20_000 });
    const second = await startServer(url);
    second.handle('add', (r) => ({ sum: r.a + r.b }));
    expect(await call).toEqual({ sum: 3 });
  });

  it('the first connect retries until the server appears', async () => {
    const url = `unix://${tmpSockPath()}`;
    const connecting = connectClient(url, { reconnect: fast });
    await new Promise((r) => setTimeout(r, 100));
    const server = await startServer(url);
    const client = await connecting;
    expect(client.connected).toBe(true);
    await waitFor(() => server.peers().length === 1, 'the peer');
  });

  it('close() while events are still queued counts them as dropped', async () => {
    const url = `unix://${tmpSockPath()}`;
    const first = await startServer(url);
    const prom = promRegistry();
    const client = await connectClient(url, { reconnect: fast, promRegistry: prom });
    await first.close(1000);
    await waitFor(() => !client.connected, 'the disconnect');
    for (let n = 0; n < 7; n++) void client.send('seq', { n });
    await client.close(100);
    expect(client.stats().queue.droppedOldest).toBe(7);
    expect(await metricValue(prom, 'vsockrpc_dropped_events_total', { reason: 'oldest' })).toBe(7);
    expect(() => client.send('seq', { n: 8 })).toThrow(/closed/);
  });

  it('with reconnect: false, a lost connection stays lost', async () => {
    const url = `unix://${tmpSockPath()}`;
    const first = await startServer(url);
    const client = await connectClient(url, { reconnect: false });
    let reconnecting = 0;
    client.on('reconnecting', () => reconnecting++);
    const disconnected = deferred();
    client.on('disconnected', () => disconnected.resolve());
    await first.close(1000);
    await disconnected.promise;
    await startServer(url);
    await new Promise((r) => setTimeout(r, 200));
    expect(client.connected).toBe(false);
    expect(reconnecting).toBe(0);
  });
});

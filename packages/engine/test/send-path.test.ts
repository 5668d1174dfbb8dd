/**
 * One send path (issue 12): an event is encoded and checked against the peer's maxFrame the same
 * way whether the ClientEngine is connected or not. An event no peer would take fails at `send`;
 * one queued for a peer with a larger limit than the next is dropped and counted by the writer.
 * Neither may close a connection with FRAME_TOO_LARGE and start a reconnect loop.
 */
import { describe, expect, it } from 'vitest';
import { FrameTooLargeError } from '@vsock-rpc/wire';
import { connectClient, metricValue, promRegistry, startServer, tmpSockPath, useCleanup, waitFor } from './helpers.js';

useCleanup();

const fast = { initialDelayMs: 20, maxDelayMs: 100 };
const blob = (bytes: number, n = 0) => ({ n, data: new Uint8Array(bytes) });

describe('one send path, online and offline', () => {
  it('online and offline, an event above the last peer’s maxFrame throws FrameTooLargeError at send', async () => {
    const url = `unix://${tmpSockPath()}`;
    const first = await startServer(url, { maxFrame: 2048 });
    const client = await connectClient(url, { reconnect: fast });
    expect(() => client.send('blob', blob(4000))).toThrow(FrameTooLargeError);
    await first.close(1000);
    await waitFor(() => !client.connected, 'the disconnect');
    // Offline: the same check, against the last known limit (it used to be skipped).
    expect(() => client.send('blob', blob(4000))).toThrow(FrameTooLargeError);
    void client.send('blob', blob(100, 1)); // fits: queued for the next connection
    const second = await startServer(url, { maxFrame: 2048 });
    const got: number[] = [];
    second.on('blob', (v) => void got.push(v.n));
    await waitFor(() => got.length === 1, 'the queued event');
    expect(got).toEqual([1]);
    expect(client.connectCount).toBe(2);
    expect(second.stats().rejected).toBe(0);
  });

  it('an event queued offline for a larger peer is dropped and counted when the next peer takes less: no FRAME_TOO_LARGE loop', async () => {
    const url = `unix://${tmpSockPath()}`;
    const first = await startServer(url, { maxFrame: 64 * 1024 });
    const prom = promRegistry();
    const client = await connectClient(url, { reconnect: fast, promRegistry: prom });
    await first.close(1000);
    await waitFor(() => !client.connected, 'the disconnect');
    void client.send('blob', blob(10_000, 1)); // fits the last peer's 64 KiB
    void client.send('blob', blob(100, 2));
    const second = await startServer(url, { maxFrame: 2048 }); // this one takes less
    const got: number[] = [];
    second.on('blob', (v) => void got.push(v.n));
    await waitFor(() => got.length === 1, 'the event that fits');
    expect(got).toEqual([2]);
    // It was dropped and counted where it was dropped, and the connection stayed up.
    expect(client.queue.stats().droppedOversized).toBe(1);
    expect(await metricValue(prom, 'vsockrpc_dropped_events_total', { reason: 'oversized' })).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(client.connected).toBe(true);
    expect(client.connectCount).toBe(2);
  });
});

/**
 * Backpressure: the bounded outbound queue and its four policies, and the slow reader — a server
 * whose handlers are slow stops reading, the client's queue fills, and its policy applies with
 * memory bounded throughout.
 */
import { describe, expect, it } from 'vitest';
import { QueueFullError } from '../src/index.js';
import { Kind, encodeFrame, pack } from '@vsock-rpc/wire';
import {
  TRANSPORTS,
  helloFrame,
  metricValue,
  promRegistry,
  rawConnect,
  rejectionOf,
  sleep,
  startPair,
  startServer,
  testRegistry,
  urlOf,
  useCleanup,
  waitFor,
} from './helpers.js';

useCleanup();

const BLOB = new Uint8Array(16 * 1024).fill(7);

describe.each(TRANSPORTS)('queue policies over %s (a tiny queue overflowed in one tick)', (transport) => {
  // The writer drains the queue on the next turn of the event loop, so sends made in one
  // synchronous run overflow a small queue deterministically.
  const MAX = 10;

  it("'drop-oldest' keeps the newest events and counts the rest", async () => {
    const prom = promRegistry();
    const { server, client } = await startPair(transport, {}, { queue: { maxEvents: MAX, policy: 'drop-oldest' }, promRegistry: prom });
    const got: number[] = [];
    server.on('seq', (v) => void got.push(v.n));
    for (let n = 0; n < 25; n++) expect(client.send('seq', { n })).toBeUndefined();
    expect(client.queue.length).toBe(MAX);
    await waitFor(() => got.length === MAX, 'the kept events');
    await sleep(50);
    expect(got).toEqual(Array.from({ length: MAX }, (_, i) => 15 + i));
    expect(client.stats().queue.droppedOldest).toBe(15);
    expect(await metricValue(prom, 'vsockrpc_dropped_events_total', { reason: 'oldest' })).toBe(15);
  });

  it("'drop-newest' keeps the oldest events and counts the rest", async () => {
    const prom = promRegistry();
    const { server, client } = await startPair(transport, {}, { queue: { maxEvents: MAX, policy: 'drop-newest' }, promRegistry: prom });
    const got: number[] = [];
    server.on('seq', (v) => void got.push(v.n));
    for (let n = 0; n < 25; n++) expect(client.send('seq', { n })).toBeUndefined();
    await waitFor(() => got.length === MAX, 'the kept events');
    void client.send('seq', { n: 100 }); // room again once flushed
    await waitFor(() => got.length === MAX + 1, 'the later event');
    expect(got).toEqual([...Array.from({ length: MAX }, (_, i) => i), 100]);
    expect(client.stats().queue.droppedNewest).toBe(15);
    expect(await metricValue(prom, 'vsockrpc_dropped_events_total', { reason: 'newest' })).toBe(15);
  });

  it("'error' throws QueueFullError when full, counted as rejected", async () => {
    const prom = promRegistry();
    const { server, client } = await startPair(transport, {}, { queue: { maxEvents: MAX, policy: 'error' }, promRegistry: prom });
    const got: number[] = [];
    server.on('seq', (v) => void got.push(v.n));
    for (let n = 0; n < MAX; n++) void client.send('seq', { n });
    let thrown: unknown;
    try {
      void client.send('seq', { n: MAX });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(QueueFullError);
    expect((thrown as QueueFullError).code).toBe('QUEUE_FULL');
    expect(() => client.send('seq', { n: MAX + 1 })).toThrow(QueueFullError);
    await waitFor(() => got.length === MAX, 'the queued events');
    expect(got).toEqual(Array.from({ length: MAX }, (_, i) => i));
    expect(client.stats().queue.rejected).toBe(2);
    expect(await metricValue(prom, 'vsockrpc_dropped_events_total', { reason: 'rejected' })).toBe(2);
  });

  it("'block' returns a promise that waits for room; nothing is lost, order is kept", async () => {
    const { server, client } = await startPair(transport, {}, { queue: { maxEvents: MAX, policy: 'block' } });
    const got: number[] = [];
    server.on('seq', (v) => void got.push(v.n));
    const waits: Promise<void>[] = [];
    for (let n = 0; n < 2 * MAX; n++) {
      const r = client.send('seq', { n });
      if (n < MAX) expect(r).toBeUndefined();
      else {
        expect(r).toBeInstanceOf(Promise);
        waits.push(r as Promise<void>);
      }
    }
    expect(client.queue.length).toBe(MAX);
    expect(client.stats().queue.blocked).toBe(MAX);
    // The waiting producers are bounded too (by maxEvents): one more is refused, and counted.
    expect(() => client.send('seq', { n: 999 })).toThrow(QueueFullError);
    expect(client.stats().queue.rejected).toBe(1);
    await Promise.all(waits);
    await waitFor(() => got.length === 2 * MAX, 'every event');
    expect(got).toEqual(Array.from({ length: 2 * MAX }, (_, i) => i));
    expect(client.stats().queue.droppedOldest + client.stats().queue.droppedNewest).toBe(0);
  });

  it('the server applies its own policy to each peer queue (server → client)', async () => {
    const prom = promRegistry();
    const { server, client } = await startPair(transport, { queue: { maxEvents: MAX, policy: 'error' }, promRegistry: prom });
    const got: number[] = [];
    client.on('seq', (v) => void got.push(v.n));
    const peer = server.peers()[0]!;
    for (let n = 0; n < MAX; n++) void peer.send('seq', { n });
    expect(() => peer.send('seq', { n: MAX })).toThrow(QueueFullError);
    expect(server.broadcast('seq', { n: MAX })).toBe(0); // full: not queued for anyone
    await waitFor(() => got.length === MAX, 'the events');
    expect(await metricValue(prom, 'vsockrpc_dropped_events_total', { reason: 'rejected' })).toBe(2);
  });
});

/** A server whose 'blob' handler holds its promise until released: it reads no faster than that. */
function slowServerHandler(server: { on(type: 'blob', h: (v: { n: number }) => unknown): unknown }) {
  const state = { received: [] as number[], pending: 0, maxPending: 0, released: false };
  const holds: (() => void)[] = [];
  server.on('blob', (v) => {
    state.received.push(v.n);
    if (state.released) return undefined;
    state.pending++;
    state.maxPending = Math.max(state.maxPending, state.pending);
    return new Promise<void>((resolve) =>
      holds.push(() => {
        state.pending--;
        resolve();
      }),
    );
  });
  const release = () => {
    state.released = true;
    for (const h of holds.splice(0)) h();
  };
  return { state, release };
}

/** Whether `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(ms);
  return settled;
}

describe.each(TRANSPORTS)('slow reader over %s', (transport) => {
  const MAX_EVENTS = 32;
  const MAX_PENDING = 4;
  // Frames of one socket chunk (≤ 64 KiB) are decoded together, so a pause can overshoot by that much.
  const CHUNK_SLACK = Math.ceil((64 * 1024) / BLOB.length) + 1;

  it("block: the server pauses reading, the client's send() waits, memory stays bounded; all arrive after", async () => {
    const { server, client } = await startPair(transport, { maxPendingHandlers: MAX_PENDING }, { queue: { maxEvents: MAX_EVENTS, policy: 'block' } });
    const slow = slowServerHandler(server);
    let n = 0;
    let maxDepth = 0;
    let blocked: Promise<void> | undefined;
    while (!blocked) {
      if (n > 20_000) throw new Error('the client never blocked: the server did not stop reading');
      const r = client.send('blob', { n: n++, data: BLOB });
      maxDepth = Math.max(maxDepth, client.queue.length);
      if (r) {
        // Full for now. If it stays full, the server has really stopped reading.
        if (!(await settlesWithin(r, 300))) blocked = r;
      } else if (n % 8 === 0) await new Promise((res) => setImmediate(res));
    }
    expect(client.queue.length).toBe(MAX_EVENTS);
    expect(maxDepth).toBeLessThanOrEqual(MAX_EVENTS);
    expect(client.stats().queue.blocked).toBe(1);
    expect(slow.state.received.length).toBeLessThan(n);
    expect(slow.state.maxPending).toBeGreaterThanOrEqual(MAX_PENDING);
    expect(slow.state.maxPending).toBeLessThanOrEqual(MAX_PENDING + CHUNK_SLACK);
    slow.release();
    await blocked;
    await waitFor(() => slow.state.received.length === n, `all ${n} events`, 30_000);
    expect(slow.state.received).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(client.stats().queue.droppedNewest + client.stats().queue.droppedOldest).toBe(0);
  });

  it('drop-newest: the queue never exceeds maxEvents, drops are counted, the rest arrive in order', async () => {
    const prom = promRegistry();
    const { server, client } = await startPair(
      transport,
      { maxPendingHandlers: MAX_PENDING },
      { queue: { maxEvents: MAX_EVENTS, policy: 'drop-newest' }, promRegistry: prom },
    );
    const slow = slowServerHandler(server);
    let n = 0;
    let maxDepth = 0;
    while (client.stats().queue.droppedNewest < 100) {
      if (n > 20_000) throw new Error('nothing was dropped: the server did not stop reading');
      void client.send('blob', { n: n++, data: BLOB });
      maxDepth = Math.max(maxDepth, client.queue.length);
      if (n % 8 === 0) await new Promise((res) => setImmediate(res));
    }
    expect(maxDepth).toBeLessThanOrEqual(MAX_EVENTS);
    expect(await metricValue(prom, 'vsockrpc_queue_depth')).toBe(client.queue.length);
    expect(slow.state.maxPending).toBeLessThanOrEqual(MAX_PENDING + CHUNK_SLACK);
    const dropped = client.stats().queue.droppedNewest;
    expect(await metricValue(prom, 'vsockrpc_dropped_events_total', { reason: 'newest' })).toBe(dropped);
    slow.release();
    await waitFor(() => slow.state.received.length === n - dropped, 'the events not dropped', 30_000);
    const r = slow.state.received;
    expect(r.every((v, i) => i === 0 || v > r[i - 1]!)).toBe(true);
    expect(r[0]).toBe(0);
  });

  it('error: send() throws QueueFullError once the paused server lets the queue fill', async () => {
    const { server, client } = await startPair(transport, { maxPendingHandlers: MAX_PENDING }, { queue: { maxEvents: MAX_EVENTS, policy: 'error' } });
    const slow = slowServerHandler(server);
    let n = 0;
    let err: unknown;
    while (!err) {
      if (n > 20_000) throw new Error('never full');
      try {
        void client.send('blob', { n, data: BLOB });
        n++;
      } catch (e) {
        err = e;
      }
      if (n % 8 === 0) await new Promise((res) => setImmediate(res));
    }
    expect(err).toBeInstanceOf(QueueFullError);
    expect(client.queue.length).toBe(MAX_EVENTS);
    slow.release();
    await waitFor(() => slow.state.received.length === n, 'every accepted event', 30_000);
  });

  it('a slow recv() consumer on the server pauses its peers (bounded inbox)', async () => {
    const { server, client } = await startPair(transport, { inboxCapacity: 8 }, { queue: { maxEvents: MAX_EVENTS, policy: 'drop-newest' } });
    let n = 0;
    while (client.stats().queue.droppedNewest < 50) {
      if (n > 20_000) throw new Error('nothing was dropped: the server kept reading into its inbox');
      void client.send('blob', { n: n++, data: BLOB });
      if (n % 8 === 0) await new Promise((res) => setImmediate(res));
    }
    const dropped = client.stats().queue.droppedNewest;
    const got: number[] = [];
    while (got.length < n - dropped) {
      const ev = await server.recv();
      if (ev.type === 'blob') got.push(ev.value.n);
    }
    expect(got.every((v, i) => i === 0 || v > got[i - 1]!)).toBe(true);
  });

  it("a slow recv() consumer on the client pauses the server's writes to it (bounded inbox)", async () => {
    const prom = promRegistry();
    const { server, client } = await startPair(
      transport,
      { queue: { maxEvents: MAX_EVENTS, policy: 'drop-newest' }, promRegistry: prom },
      { inboxCapacity: 8 },
    );
    const peer = server.peers()[0]!;
    let n = 0;
    while (peer.connection.queue.stats().droppedNewest < 50) {
      if (n > 5_000) throw new Error('nothing was dropped: the client kept reading into its inbox');
      void peer.send('blob', { n: n++, data: BLOB });
      if (n % 8 === 0) await new Promise((res) => setImmediate(res));
    }
    const dropped = peer.connection.queue.stats().droppedNewest;
    expect(await metricValue(prom, 'vsockrpc_dropped_events_total', { reason: 'newest' })).toBe(dropped);
    const got: number[] = [];
    while (got.length < n - dropped) got.push(((await client.recv()).value as { n: number }).n);
    expect(got.every((v, i) => i === 0 || v > got[i - 1]!)).toBe(true);
    void rejectionOf;
  });
});

describe('a peer that sends requests but never reads the replies', () => {
  it('stops being read once running calls plus unread replies reach maxConcurrentCalls, and loses nothing when it reads again', async () => {
    const server = await startServer('unix', { maxConcurrentCalls: 32 });
    server.handle('echo', (r) => r);
    const peer = await rawConnect(urlOf(server));
    peer.socket.pause(); // the rude part: replies pile up on the server's side
    peer.write(helloFrame());
    await waitFor(() => server.peers().length === 1, 'the handshake');
    const request = pack({ timestamp: 1n, str: 'X'.repeat(60) });
    const total = 20_000;
    let id = 0;
    for (let round = 0; round < total / 1000; round++) {
      const frames: Buffer[] = [];
      for (let i = 0; i < 1000; i++) frames.push(encodeFrame(Kind.REQUEST, testRegistry.method('echo').id, ++id, request));
      peer.write(Buffer.concat(frames));
    }
    await sleep(500);
    const stats = server.peers()[0]!.stats();
    // Without the bound every answered request would wait here (~20 000); with it, at most the
    // limit plus the requests of the socket chunk being decoded when reading paused.
    expect(stats.queuedReplies + stats.runningHandlers).toBeLessThan(2_000);
    peer.socket.resume();
    await waitFor(() => peer.frames.filter((f) => f.kind === Kind.RESPONSE).length === total, 'every reply', 30_000);
    expect(peer.frames.filter((f) => f.kind === Kind.ERROR)).toEqual([]);
  });
});

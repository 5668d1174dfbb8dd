/** ServerEngine: many peers, per-peer context, admission (CIDs, connection limit), idle timeout, graceful close. */
import { describe, expect, it } from 'vitest';
import { ConnectionClosedError, GoawayError, RpcError, formatAddress, type CallContext, type PeerContext } from '../src/index.js';
import {
  TRANSPORTS,
  collectingLogger,
  connectClient,
  deferred,
  helloFrame,
  metricValue,
  promRegistry,
  rawConnect,
  rejectionOf,
  startPair,
  startServer,
  urlOf,
  useCleanup,
  waitFor,
} from './helpers.js';

useCleanup();

describe.each(TRANSPORTS)('ServerEngine over %s', (transport) => {
  it('serves 20 concurrent clients, each with its own context', async () => {
    const server = await startServer(transport);
    const url = urlOf(server);
    server.handle('echo', (req, ctx) => ({ timestamp: req.timestamp, str: `${ctx.name}:${req.str}` }));
    const perPeer = new Map<string, number[]>();
    server.on('seq', (v, peer) => {
      const list = perPeer.get(peer.name) ?? [];
      list.push(v.n);
      perPeer.set(peer.name, list);
    });
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => connectClient(url, { name: `guest-${i}` })));
    await waitFor(() => server.peers().length === 20, '20 peers');
    expect(new Set(server.peers().map((p) => p.context.name)).size).toBe(20);
    const answers = await Promise.all(
      clients.map(async (c) => {
        for (let n = 0; n < 200; n++) void c.send('seq', { n });
        return Promise.all(Array.from({ length: 5 }, (_, k) => c.call('echo', { timestamp: BigInt(k), str: `m${k}` })));
      }),
    );
    answers.forEach((list, i) => expect(list.map((r) => r.str)).toEqual([0, 1, 2, 3, 4].map((k) => `guest-${i}:m${k}`)));
    await waitFor(() => [...perPeer.values()].reduce((a, l) => a + l.length, 0) === 20 * 200, 'every event');
    for (let i = 0; i < 20; i++) expect(perPeer.get(`guest-${i}`)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(server.stats().connections).toBe(20);
    // A client that leaves is reported and forgotten; the others stay.
    const closed = deferred<PeerContext>();
    server.on('peerClosed', (ctx: PeerContext) => closed.resolve(ctx));
    await clients[3]!.close();
    expect((await closed.promise).name).toBe('guest-3');
    await waitFor(() => server.peers().length === 19, '19 peers');
    expect(await clients[4]!.call('echo', { timestamp: 0n, str: 'still' })).toMatchObject({ str: 'guest-4:still' });
  });

  it('handlers get the peer context: name from HELLO, transport address', async () => {
    const { server, client } = await startPair(transport);
    const ctxSeen = deferred<CallContext>();
    server.handle('add', (r, ctx) => {
      ctxSeen.resolve(ctx);
      return { sum: r.a + r.b };
    });
    await client.call('add', { a: 1, b: 2 });
    const ctx = await ctxSeen.promise;
    const handle = server.peers()[0]!;
    expect(ctx.name).toBe('test-client');
    expect(ctx.transport).toBe(transport);
    expect(ctx.address).toEqual(handle.context.address);
    expect(ctx.connectionId).toBe(handle.context.connectionId);
    expect(ctx.cid).toBeUndefined();
    // The address is the parsed object; humans see it through formatAddress.
    if (transport === 'tcp') expect(ctx.address).toMatchObject({ transport: 'tcp', host: '127.0.0.1' });
    else expect(ctx.address).toEqual(server.address);
    expect(formatAddress(ctx.address)).toMatch(transport === 'tcp' ? /^tcp:\/\/127\.0\.0\.1:\d+$/ : /^unix:\/\//);
    if (transport !== 'tcp') expect(formatAddress(ctx.address)).toBe(urlOf(server));
    expect(client.peer?.name).toBe('test-server');
  });

  it('graceful close() drains calls in flight up to its deadline', async () => {
    const { server, client } = await startPair(transport, {}, { reconnect: false });
    const gates = new Map<number, () => void>();
    const cutSignal = deferred<unknown>();
    server.handle(
      'sleep',
      (req, ctx) =>
        new Promise((resolve) => {
          gates.set(req.tag, () => resolve({ tag: req.tag }));
          ctx.signal.addEventListener('abort', () => cutSignal.resolve(ctx.signal.reason));
        }),
    );
    const quick = client.call('sleep', { ms: 0, tag: 1 });
    const slow = client.call('sleep', { ms: 0, tag: 2 });
    await waitFor(() => gates.size === 2, 'both handlers running');
    const goaway = deferred<string>();
    client.connection!.on('goaway', (code: string) => goaway.resolve(code));
    const closing = server.close(1500);
    expect(await goaway.promise).toBe('SHUTDOWN');
    // New calls are not started on a closing connection, but calls in flight are answered.
    gates.get(1)!();
    expect(await quick).toEqual({ tag: 1 });
    // The handler slower than the deadline is cut, and its caller told.
    const err = await rejectionOf(slow);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect(err.code).toBe('UNAVAILABLE');
    expect(await cutSignal.promise).toBeInstanceOf(Error);
    await closing;
    expect(server.peers()).toHaveLength(0);
  });
});

describe('ServerEngine admission and idleness (unix)', () => {
  it('allowCids + requireCid refuses a unix peer with GOAWAY CID_NOT_ALLOWED', async () => {
    const logger = collectingLogger();
    const prom = promRegistry();
    const server = await startServer('unix', { allowCids: [3], requireCid: true, logger, promRegistry: prom });
    const rejected = deferred<{ reason: string }>();
    server.on('peerRejected', (r: { reason: string }) => rejected.resolve(r));
    const err = await rejectionOf(connectClient(urlOf(server), { reconnect: false }));
    expect(err).toBeInstanceOf(GoawayError);
    expect(err.code).toBe('CID_NOT_ALLOWED');
    expect(err.reason).toBe('CID_NOT_ALLOWED');
    expect((await rejected.promise).reason).toBe('CID_NOT_ALLOWED');
    expect(server.stats().rejected).toBe(1);
    expect(logger.matching(/CID/)).toHaveLength(1);
    expect(await metricValue(prom, 'vsockrpc_errors_total', { code: 'CID_NOT_ALLOWED' })).toBe(1);
    // Without requireCid, peers without a CID are let in.
    const open = await startServer('unix', { allowCids: [3] });
    const c = await connectClient(urlOf(open));
    expect(c.connected).toBe(true);
  });

  it('maxConnections refuses the next peer with CONNECTION_LIMIT; a slot frees up when one leaves', async () => {
    const { server, client, url } = await startPair('unix', { maxConnections: 1 });
    const err = await rejectionOf(connectClient(url, { reconnect: false, name: 'too-many' }));
    expect(err).toBeInstanceOf(GoawayError);
    expect(err.code).toBe('CONNECTION_LIMIT');
    server.handle('add', (r) => ({ sum: r.a + r.b }));
    expect(await client.call('add', { a: 1, b: 1 })).toEqual({ sum: 2 });
    await client.close();
    await waitFor(() => server.stats().connections === 0, 'the first peer gone');
    const again = await connectClient(url, { reconnect: false });
    expect(await again.call('add', { a: 2, b: 2 })).toEqual({ sum: 4 });
  });

  it('closes a peer that sends HELLO and then nothing with IDLE_TIMEOUT', async () => {
    const logger = collectingLogger();
    const prom = promRegistry();
    const server = await startServer('unix', { keepaliveMs: 100, idleTimeoutMs: 400, logger, promRegistry: prom });
    const closed = deferred<{ ctx: PeerContext; err: Error | undefined }>();
    server.on('peerClosed', (ctx: PeerContext, err?: Error) => closed.resolve({ ctx, err }));
    const raw = await rawConnect(urlOf(server));
    raw.write(helloFrame()); // and never answers a PING
    const { ctx, err } = await closed.promise;
    expect(ctx.name).toBe('raw-peer');
    expect((err as RpcError).code).toBe('IDLE_TIMEOUT');
    expect(await raw.goaway()).toBe('IDLE_TIMEOUT');
    await raw.ended;
    // It was pinged before being given up on.
    expect(raw.frames.some((f) => f.type === 0xff01)).toBe(true);
    expect(logger.matching(/nothing heard/)).toHaveLength(1);
    expect(await metricValue(prom, 'vsockrpc_errors_total', { code: 'IDLE_TIMEOUT' })).toBe(1);
  });

  it('after close() the server admits no one and its clients see the close', async () => {
    const server = await startServer('unix');
    const url = urlOf(server);
    const c = await connectClient(url, { reconnect: false });
    await server.close(500);
    await waitFor(() => !c.connected, 'the client to see the close');
    await expect(connectClient(url, { reconnect: false })).rejects.toThrow();
  });
});

describe('keepalive (unix)', () => {
  it('ping() measures the round-trip time', async () => {
    const { server, client } = await startPair('unix');
    const rtt = await client.connection!.ping();
    expect(typeof rtt).toBe('bigint');
    expect(rtt).toBeGreaterThan(0n);
    expect(client.connection!.rttNs).toBe(rtt);
    expect(client.stats().connection!.rttNs).toBe(rtt);
    const back = await server.peers()[0]!.connection.ping();
    expect(back).toBeGreaterThan(0n);
  });

  it("keepalive PINGs keep an otherwise silent connection alive past the server's idleTimeoutMs", async () => {
    const prom = promRegistry();
    // The server never pings and gives up after 1 s of silence; the client pings every 100 ms.
    const { server, client } = await startPair(
      'unix',
      { keepaliveMs: 0, idleTimeoutMs: 1000, promRegistry: prom },
      { keepaliveMs: 100, idleTimeoutMs: 0, clock: false },
    );
    let closed = 0;
    server.on('peerClosed', () => closed++);
    await new Promise((r) => setTimeout(r, 3500));
    expect(closed).toBe(0);
    expect(client.connected).toBe(true);
    expect(client.connectCount).toBe(1);
    expect(server.peers()).toHaveLength(1);
    expect(await metricValue(prom, 'vsockrpc_frames_total', { direction: 'in', type: 'PING' })).toBeGreaterThan(3);
    server.handle('add', (r) => ({ sum: r.a + r.b }));
    expect(await client.call('add', { a: 1, b: 2 })).toEqual({ sum: 3 });
  });

  it('without keepalive on the client, the same silence ends in IDLE_TIMEOUT on both sides', async () => {
    const { server, client } = await startPair(
      'unix',
      { keepaliveMs: 0, idleTimeoutMs: 300 },
      { keepaliveMs: 0, idleTimeoutMs: 0, reconnect: false, clock: false },
    );
    const disconnected = deferred<Error | undefined>();
    client.on('disconnected', (err?: Error) => disconnected.resolve(err));
    const err = await disconnected.promise;
    expect(err).toBeInstanceOf(GoawayError);
    expect((err as GoawayError).reason).toBe('IDLE_TIMEOUT');
    await waitFor(() => server.peers().length === 0, 'the server to forget the peer');
  });
});

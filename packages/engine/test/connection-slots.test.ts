/**
 * Fair connection slots (issue 11, item 10): a full server evicts handshake-pending, then idle
 * connections, from the peer holding the most, before it refuses anyone; one peer (a CID, or an
 * IP over TCP) holds at most maxConnectionsPerCid. Over unix sockets and TCP, where distinct
 * local addresses of 127.0.0.0/8 play distinct peers.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ControlType, Kind } from '@vsock-rpc/wire';
import { GoawayError, type ConnectionState, type ServerEngine } from '../src/index.js';
import { ConnectionSlots } from '../src/connection-slots.js';
import {
  connectClient,
  helloFrame,
  metricValue,
  promRegistry,
  rawConnect,
  rawPeerOf,
  rejectionOf,
  startServer,
  urlOf,
  useCleanup,
  waitFor,
  type RawPeer,
  type TestRegistry,
} from './helpers.js';

useCleanup();

/** A raw TCP peer dialing from `localAddress` (another loopback address is another peer). */
async function rawFrom(server: ServerEngine<TestRegistry>, localAddress: string): Promise<RawPeer> {
  const port = (server.address as { port: number }).port;
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return rawPeerOf(socket);
}

/** A raw peer that completed the handshake, then says nothing. */
async function helloFrom(server: ServerEngine<TestRegistry>, localAddress: string): Promise<RawPeer> {
  const p = await rawFrom(server, localAddress);
  const before = server.peers().length;
  p.write(helloFrame());
  await waitFor(() => server.peers().length === before + 1, 'the handshake');
  return p;
}

const goawayOf = (p: RawPeer) => p.frames.find((f) => f.kind === Kind.CONTROL && f.type === ControlType.GOAWAY);

describe('connection slots (unix)', () => {
  it('a flood of handshake-pending connections does not keep a good peer out: the oldest is evicted with GOAWAY CONNECTION_LIMIT', async () => {
    const prom = promRegistry();
    const server = await startServer('unix', { maxConnections: 20, promRegistry: prom });
    const evicted: { reason: string; connectionId: number }[] = [];
    server.on('peerEvicted', (e: { reason: string; connectionId: number }) => void evicted.push(e));
    const flood: RawPeer[] = [];
    for (let i = 0; i < 20; i++) flood.push(await rawConnect(urlOf(server)));
    await waitFor(() => server.stats().slots === 20, 'the flood to hold every slot');
    // Five good peers arrive, one after the other: each takes a flooder's slot.
    const good = [];
    for (let i = 0; i < 5; i++) good.push(await connectClient(urlOf(server), { reconnect: false, name: `good-${i}` }));
    expect(good.every((c) => c.connected)).toBe(true);
    await waitFor(() => server.stats().connections === 5, 'the server to see the good peers');
    expect(server.stats().slots).toBe(20);
    expect(server.stats().evicted).toEqual({ handshake: 5, idle: 0 });
    expect(server.stats().rejected).toBe(0);
    expect(evicted.map((e) => e.reason)).toEqual(Array(5).fill('handshake'));
    // The oldest five flooders were the ones evicted, each told why.
    for (const p of flood.slice(0, 5)) expect(await p.goaway()).toBe('CONNECTION_LIMIT');
    for (const p of flood.slice(5)) expect(goawayOf(p)).toBeUndefined();
    expect(await metricValue(prom, 'vsockrpc_connections_evicted_total', { role: 'server', reason: 'handshake' })).toBe(5);
    expect(await metricValue(prom, 'vsockrpc_errors_total', { code: 'CONNECTION_LIMIT' })).toBe(5);
  });

  it('when no connection is pending, one idle past evictIdleAfterMs makes room; a busy full server still refuses', async () => {
    const server = await startServer('unix', { maxConnections: 3, evictIdleAfterMs: 50, keepaliveMs: 0 });
    const idle: RawPeer[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await rawConnect(urlOf(server));
      p.write(helloFrame());
      idle.push(p);
      await waitFor(() => server.peers().length === i + 1, 'the handshake');
    }
    await waitFor(() => server.peers().every((h) => h.connection.idleMs > 60), 'the peers to be idle');
    const good = await connectClient(urlOf(server), { reconnect: false, keepaliveMs: 0 });
    expect(good.connected).toBe(true);
    expect(server.stats().evicted).toEqual({ handshake: 0, idle: 1 });
    // The longest silent (the first) went.
    expect(await idle[0]!.goaway()).toBe('CONNECTION_LIMIT');
    await waitFor(() => server.peers().length === 3, 'the evicted peer to leave');
  });

  it('a full server with nothing evictable refuses the newcomer with CONNECTION_LIMIT', async () => {
    const server = await startServer('unix', { maxConnections: 2, evictIdleAfterMs: 0 });
    for (let i = 0; i < 2; i++) {
      const p = await rawConnect(urlOf(server));
      p.write(helloFrame());
    }
    await waitFor(() => server.peers().length === 2, 'two peers');
    const err = await rejectionOf(connectClient(urlOf(server), { reconnect: false }));
    expect(err).toBeInstanceOf(GoawayError);
    expect(err.code).toBe('CONNECTION_LIMIT');
    expect(server.stats().rejected).toBe(1);
    expect(server.stats().evicted).toEqual({ handshake: 0, idle: 0 });
  });

  it('unix peers share one key, which maxConnectionsPerCid does not limit', async () => {
    const server = await startServer('unix', { maxConnectionsPerCid: 2, evictIdleAfterMs: 0 });
    for (let i = 0; i < 5; i++) {
      const p = await rawConnect(urlOf(server));
      p.write(helloFrame());
    }
    await waitFor(() => server.peers().length === 5, 'five peers from one unix key');
    expect(server.stats().rejected).toBe(0);
  });
});

describe('connection slots (tcp: one remote IP is one peer)', () => {
  it('the per-IP limit holds: a fourth busy connection from one IP is refused, another IP gets in', async () => {
    const server = await startServer('tcp', { maxConnectionsPerCid: 3, evictIdleAfterMs: 0 });
    for (let i = 0; i < 3; i++) await helloFrom(server, '127.0.0.2');
    const fourth = await rawFrom(server, '127.0.0.2');
    expect(await fourth.goaway()).toBe('CONNECTION_LIMIT');
    await fourth.ended;
    expect(server.stats().rejected).toBe(1);
    const other = await helloFrom(server, '127.0.0.3');
    expect(goawayOf(other)).toBeUndefined();
    expect(server.peers().length).toBe(4);
  });

  it("past its limit a peer's own pending connection is evicted, not another peer's", async () => {
    const server = await startServer('tcp', { maxConnectionsPerCid: 3 });
    const other = await rawFrom(server, '127.0.0.3'); // pending too, and older
    const mine: RawPeer[] = [];
    for (let i = 0; i < 3; i++) mine.push(await rawFrom(server, '127.0.0.2'));
    await waitFor(() => server.stats().slots === 4, 'four slots');
    const newcomer = await helloFrom(server, '127.0.0.2');
    expect(await mine[0]!.goaway()).toBe('CONNECTION_LIMIT');
    expect(goawayOf(other)).toBeUndefined();
    expect(goawayOf(newcomer)).toBeUndefined();
    expect(server.stats().evicted).toEqual({ handshake: 1, idle: 0 });
  });

  it('a full server takes the idle connection from the peer holding the most, not the longest idle of a small one', async () => {
    const server = await startServer('tcp', { maxConnections: 6, evictIdleAfterMs: 50, keepaliveMs: 0 });
    const lone = await helloFrom(server, '127.0.0.3');
    const flood: RawPeer[] = [];
    for (let i = 0; i < 5; i++) flood.push(await helloFrom(server, '127.0.0.2'));
    await waitFor(() => server.peers().every((h) => h.connection.idleMs > 60), 'everyone idle');
    const good = await connectClient(urlOf(server), { reconnect: false, keepaliveMs: 0 });
    expect(good.connected).toBe(true);
    expect(await flood[0]!.goaway()).toBe('CONNECTION_LIMIT');
    expect(goawayOf(lone)).toBeUndefined();
    expect(server.stats().evicted).toEqual({ handshake: 0, idle: 1 });
  });
});

describe('ConnectionSlots', () => {
  type Fake = { state: ConnectionState; idleMs: number };
  it('keeps per-key counts, removes empty keys, and picks handshake before idle, biggest key first', () => {
    const slots = new ConnectionSlots<Fake>();
    const a1: Fake = { state: 'open', idleMs: 500 };
    const b1: Fake = { state: 'open', idleMs: 100 };
    const b2: Fake = { state: 'open', idleMs: 200 };
    const b3: Fake = { state: 'open', idleMs: 10 };
    slots.add(a1, 'a');
    for (const c of [b1, b2, b3]) slots.add(c, 'b');
    expect(slots.countOf('b')).toBe(3);
    expect(slots.victim(0)).toBeUndefined();
    expect(slots.victim(50)).toEqual({ connection: b2, key: 'b', reason: 'idle' });
    expect(slots.victim(50, 'a')).toEqual({ connection: a1, key: 'a', reason: 'idle' });
    expect(slots.victim(1000)).toBeUndefined();
    const pending: Fake = { state: 'handshake', idleMs: 0 };
    slots.add(pending, 'a');
    expect(slots.victim(50)).toEqual({ connection: pending, key: 'a', reason: 'handshake' });
    expect(slots.delete(pending)).toBe(true);
    expect(slots.delete(pending)).toBe(false);
    for (const c of [a1, b1, b2, b3]) slots.delete(c);
    expect(slots.size).toBe(0);
    expect(slots.keyCount).toBe(0);
  });
});

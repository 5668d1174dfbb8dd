/** Typed events in both directions, in order, through every consumer style; over unix and tcp. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { SchemaViolationError } from '@vsock-rpc/wire';
import { formatAddress, type PeerContext, type TypedEvent } from '../src/index.js';
import { TRANSPORTS, connectClient, deferred, startPair, testRegistry, useCleanup, waitFor, type TestRegistry } from './helpers.js';

useCleanup();

describe.each(TRANSPORTS)('events over %s', (transport) => {
  it('client → server: 100k events arrive in order, each exactly once', async () => {
    const { server, client } = await startPair(transport);
    const N = 100_000;
    let next = 0;
    let outOfOrder = 0;
    const peers = new Set<string>();
    server.on('seq', (v, peer) => {
      if (v.n !== next) outOfOrder++;
      next = v.n + 1;
      peers.add(peer.name);
    });
    for (let n = 0; n < N; n++) {
      const r = client.send('seq', { n });
      if (r) await r;
    }
    await waitFor(() => next === N, `${N} events (have ${next})`, 30_000);
    expect(outOfOrder).toBe(0);
    expect([...peers]).toEqual(['test-client']);
    expect(client.stats().queue.droppedOldest + client.stats().queue.droppedNewest).toBe(0);
    expect(server.peers()[0]!.stats().eventsIn).toBe(N);
  });

  it('server → client via PeerHandle.send: 20k events in order', async () => {
    const { server, client } = await startPair(transport);
    const N = 20_000;
    const got: number[] = [];
    client.on('seq', (v) => void got.push(v.n));
    const peer = server.peers()[0]!;
    for (let n = 0; n < N; n++) {
      const r = peer.send('seq', { n });
      if (r) await r;
    }
    await waitFor(() => got.length === N, 'all events at the client', 30_000);
    expect(got.every((n, i) => n === i)).toBe(true);
  });

  it('broadcast reaches every connected client', async () => {
    const { server, client, url } = await startPair(transport);
    const second = await connectClient(url, { name: 'second' });
    await waitFor(() => server.peers().length === 2, 'two peers');
    const a: string[] = [];
    const b: string[] = [];
    client.on('note', (v) => void a.push(v.text));
    second.on('note', (v) => void b.push(v.text));
    expect(server.broadcast('note', { text: 'one' })).toBe(2);
    expect(server.broadcast('note', { text: 'two' })).toBe(2);
    await waitFor(() => a.length === 2 && b.length === 2, 'broadcasts');
    expect(a).toEqual(['one', 'two']);
    expect(b).toEqual(['one', 'two']);
  });

  it('recv() / recvMesg() and for-await receive events that have no handler, in order', async () => {
    const { server, client } = await startPair(transport);
    const peer = server.peers()[0]!;
    for (let n = 0; n < 10; n++) void peer.send('seq', { n });
    void peer.send('note', { text: 'after' });
    const first = await client.recv();
    expect(first.type).toBe('seq');
    expect(first.value).toEqual({ n: 0 });
    expect(first.peer.name).toBe('test-server');
    const second = await client.recvMesg();
    expect(second.value).toEqual({ n: 1 });
    const rest: unknown[] = [];
    for await (const ev of client) {
      rest.push(ev.value);
      if (ev.type === 'note') {
        // The union narrows on `type`.
        expectTypeOf(ev.value).toEqualTypeOf<{ text: string }>();
        break;
      }
    }
    expect(rest).toEqual([...Array.from({ length: 8 }, (_, i) => ({ n: i + 2 })), { text: 'after' }]);
  });

  it('sendMesg is send; the server iterates client events with events()', async () => {
    const { server, client } = await startPair(transport);
    void client.sendMesg('note', { text: 'a' });
    void client.sendMesg('messageexp', { timestamp: 2n ** 62n + 7n, str: 'HELLO' });
    const got: TypedEvent<TestRegistry>[] = [];
    for await (const ev of server.events()) {
      got.push(ev);
      if (got.length === 2) break;
    }
    expect(got.map((e) => e.type)).toEqual(['note', 'messageexp']);
    // int64 stays bigint end to end.
    expect(got[1]!.value).toEqual({ timestamp: 2n ** 62n + 7n, str: 'HELLO' });
  });

  it('onAnyEvent sees every type after the specific handlers; a removed handler stops', async () => {
    const { server, client } = await startPair(transport);
    const order: string[] = [];
    const offSeq = server.on('seq', (v) => void order.push(`seq:${v.n}`));
    const offAny = server.onAnyEvent((ev) => void order.push(`any:${ev.type}`));
    void client.send('seq', { n: 1 });
    void client.send('note', { text: 'x' });
    await waitFor(() => order.length === 3, 'three handler calls');
    expect(order).toEqual(['seq:1', 'any:seq', 'any:note']);
    offSeq();
    offAny();
    void client.send('seq', { n: 2 });
    const ev = await server.recv(); // no handler left: it goes to the inbox
    expect(ev).toMatchObject({ type: 'seq', value: { n: 2 } });
    expect(order).toHaveLength(3);
  });

  it('per-peer context reaches event handlers; a throwing handler does not break the connection', async () => {
    const { server, client } = await startPair(transport);
    const seen = deferred<PeerContext>();
    let calls = 0;
    server.on('note', (v, peer) => {
      calls++;
      if (v.text === 'boom') throw new Error('handler bug');
      seen.resolve(peer);
    });
    void client.send('note', { text: 'boom' });
    void client.send('note', { text: 'fine' });
    const peer = await seen.promise;
    expect(calls).toBe(2);
    expect(peer.name).toBe('test-client');
    expect(peer.transport).toBe(transport);
    expect(peer.address.transport).toBe(transport);
    expect(formatAddress(peer.address)).toMatch(transport === 'unix' ? /^unix:\/\// : /^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(client.connected).toBe(true);
  });

  it('an event that breaks its schema throws at send, synchronously, and nothing is sent', async () => {
    const { server, client } = await startPair(transport);
    expect(() => client.send('messageexp', { timestamp: 1n, str: '' })).toThrow(SchemaViolationError);
    expect(() => client.send('messageexp', { timestamp: 1n, str: 'x'.repeat(66) })).toThrow(/str/);
    void client.send('note', { text: 'ok' });
    const ev = await server.recv();
    expect(ev.type).toBe('note');
  });
});

describe('event typing (compile time)', () => {
  it('send and on are checked against the registry', async () => {
    type C = Awaited<ReturnType<typeof connectClient<TestRegistry>>>;
    const check = (client: C) => {
      void client.send('messageexp', { timestamp: 1n, str: 'x' });
      // @ts-expect-error a number is not a bigint timestamp
      void client.send('messageexp', { timestamp: 1, str: 'x' });
      // @ts-expect-error a missing field
      void client.send('messageexp', { timestamp: 1n });
      // @ts-expect-error an unknown message name
      void client.send('messageexpp', { timestamp: 1n, str: 'x' });
      // @ts-expect-error a method is not a message
      void client.send('echo', { timestamp: 1n, str: 'x' });
      client.on('messageexp', (v) => {
        expectTypeOf(v).toEqualTypeOf<{ timestamp: bigint; str: string }>();
      });
      // @ts-expect-error the handler's value is typed by the message
      client.on('seq', (v: { text: string }) => v);
    };
    expectTypeOf(check).toBeFunction();
    expectTypeOf<TypedEvent<TestRegistry>['type']>().toEqualTypeOf<'messageexp' | 'seq' | 'note' | 'blob'>();
    expect(testRegistry.message('messageexp').id).toBe(4);
  });
});

/**
 * Streams (PROTOCOL.md §11): the three modes in both directions, the Node stream adapters,
 * cancellation from each side, deadlines, a peer closing mid-stream, 1,000 streams on one
 * connection, credit (a slow consumer stalls only its own stream; a raw peer that ignores its
 * window gets GOAWAY PROTOCOL_ERROR), and peers without the feature.
 */
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ControlType, Flags, Kind, decodeErrorPayload, defineRegistry, encodeFrame, pack } from '@vsock-rpc/wire';
import { RpcError, type StreamContext } from '../src/index.js';
import {
  TRANSPORTS,
  connectClient,
  deferred,
  helloFrame,
  rawConnect,
  rejectionOf,
  startServer,
  urlOf,
  useCleanup,
  waitFor,
  type TransportName,
} from './helpers.js';

useCleanup();

const Item = Type.Object({ i: Type.Integer(), text: Type.String() });
const Chunk = Type.Object({ data: Type.Uint8Array() });

const streamRegistry = defineRegistry({
  messages: { ping: { id: 1, schema: Type.Object({ n: Type.Integer() }) } },
  methods: { add: { id: 100, request: Type.Object({ a: Type.Integer(), b: Type.Integer() }), response: Type.Object({ sum: Type.Integer() }) } },
  streams: {
    count: { id: 200, mode: 'server', request: Type.Object({ n: Type.Integer({ minimum: 0 }) }), response: Item },
    total: { id: 201, mode: 'client', request: Type.Object({ x: Type.Integer() }), response: Type.Object({ sum: Type.Integer() }) },
    echo: { id: 202, mode: 'bidi', request: Item, response: Item },
    chunks: { id: 203, mode: 'server', request: Type.Object({ n: Type.Integer(), size: Type.Integer() }), response: Chunk },
    hang: { id: 204, mode: 'server', request: Type.Object({}), response: Item },
  },
});
type Reg = typeof streamRegistry;

async function pair(t: TransportName = 'unix', serverOptions: Record<string, unknown> = {}, clientOptions: Record<string, unknown> = {}) {
  const server = await startServer<Reg>(t, { registry: streamRegistry, ...serverOptions });
  const client = await connectClient<Reg>(urlOf(server), { registry: streamRegistry, ...clientOptions });
  await waitFor(() => server.peers().length === 1, 'the server to see the client');
  return { server, client };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe.each(TRANSPORTS)('stream shapes over %s', (transport) => {
  it('server streaming: an async generator handler, read with for await, typed at both ends', async () => {
    const { server, client } = await pair(transport);
    server.handleStream('count', async function* (req, stream) {
      expectTypeOf(req).toEqualTypeOf<{ n: number }>();
      expect(stream.method).toBe('count');
      for (let i = 0; i < req.n; i++) yield { i, text: `line ${i}` };
    });
    const s = client.openStream('count', { n: 500 });
    const items = await collect(s);
    expectTypeOf(items).toEqualTypeOf<{ i: number; text: string }[]>();
    expect(items).toHaveLength(500);
    expect(items[499]).toEqual({ i: 499, text: 'line 499' });
    expect(s.id % 2).toBe(1); // the dialer's ids are odd
    await s.closed;
    expect(client.connection!.stats().streams).toBe(0);
    await waitFor(() => server.peers()[0]!.stats().streams === 0, 'the server to forget the stream');
  });

  it('client streaming: many writes, end, one response', async () => {
    const { server, client } = await pair(transport);
    server.handleStream('total', async (requests) => {
      let sum = 0;
      for await (const r of requests) sum += r.x;
      return { sum };
    });
    const s = client.openStream('total');
    for (let x = 1; x <= 1000; x++) await s.write({ x });
    await s.end();
    const r = await s.response;
    expectTypeOf(r).toEqualTypeOf<{ sum: number }>();
    expect(r.sum).toBe(500500);
  });

  it('bidirectional: each request answered as it arrives, half-close from the opener', async () => {
    const { server, client } = await pair(transport);
    server.handleStream('echo', async (requests, stream) => {
      for await (const r of requests) await stream.write({ i: r.i * 2, text: r.text.toUpperCase() });
    });
    const s = client.openStream('echo');
    const got: number[] = [];
    for (let i = 0; i < 50; i++) {
      await s.write({ i, text: 'x' });
      const r = await s.next();
      got.push(r.value!.i);
    }
    await s.end();
    expect(await s.next()).toEqual({ done: true, value: undefined });
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
  });

  it('the server opens a stream to its client (PeerHandle.openStream), with even ids', async () => {
    const { server, client } = await pair(transport);
    client.handleStream('count', async function* (req) {
      for (let i = 0; i < req.n; i++) yield { i, text: 'from the guest' };
    });
    const s = server.peers()[0]!.openStream('count', { n: 3 });
    expect(s.id % 2).toBe(0);
    expect((await collect(s)).map((v) => v.i)).toEqual([0, 1, 2]);
  });
});

describe('streams', () => {
  it('Node stream adapters: readable() pipes responses; writable() writes requests with backpressure', async () => {
    const { server, client } = await pair();
    server.handleStream('count', async function* (req) {
      for (let i = 0; i < req.n; i++) yield { i, text: 'n' };
    });
    server.handleStream('total', async (requests) => {
      let sum = 0;
      for await (const r of requests) sum += r.x;
      return { sum };
    });
    const seen: number[] = [];
    await pipeline(
      client.openStream('count', { n: 100 }).readable(),
      new Writable({
        objectMode: true,
        write: (v: { i: number }, _e, cb) => {
          seen.push(v.i);
          cb();
        },
      }),
    );
    expect(seen).toHaveLength(100);
    const up = client.openStream('total');
    const w = up.writable();
    for (let x = 0; x < 10; x++) w.write({ x });
    w.end();
    expect(await up.response).toEqual({ sum: 45 });
  });

  it('cancellation by the opener (cancel, break, an AbortSignal) aborts the handler and frees the stream', async () => {
    const { server, client } = await pair();
    const aborted: unknown[] = [];
    server.handle('add', (r) => ({ sum: r.a + r.b }));
    server.handleStream('count', async (req, stream) => {
      stream.signal.addEventListener('abort', () => aborted.push(stream.signal.reason));
      for (let i = 0; ; i++) await stream.write({ i, text: 'forever' });
    });
    // break out of for await
    for await (const v of client.openStream('count', { n: 0 })) if (v.i === 10) break;
    // cancel()
    const s = client.openStream('count', { n: 0 });
    await s.next();
    s.cancel('enough');
    expect((await rejectionOf(s.next())).code).toBe('CANCELLED');
    // signal
    const ac = new AbortController();
    const s2 = client.openStream('count', { n: 0 }, { signal: ac.signal });
    await s2.next();
    ac.abort();
    expect((await rejectionOf(collect(s2))).code).toBe('CANCELLED');
    await waitFor(() => aborted.length === 3, 'three handlers aborted');
    expect(aborted.every((r) => r instanceof RpcError && r.code === 'CANCELLED')).toBe(true);
    await waitFor(() => server.peers()[0]!.stats().streams === 0 && client.connection!.stats().streams === 0, 'every stream forgotten');
    expect(await client.call('add', { a: 1, b: 2 })).toEqual({ sum: 3 }); // the connection is fine
  });

  it('cancellation by the acceptor: a thrown RpcError and ctx.reset reach the opener with their code', async () => {
    const { server, client } = await pair();
    server.handleStream('count', async function* (req) {
      yield { i: 0, text: 'first' };
      throw new RpcError('NOT_FOUND', `no ${req.n}`, { which: req.n });
    });
    server.handleStream('total', async (_requests, ctx: StreamContext) => {
      ctx.reset('CANCELLED', 'the server gives up');
      return { sum: 0 };
    });
    const s = client.openStream('count', { n: 7 });
    expect((await s.next()).value).toEqual({ i: 0, text: 'first' });
    const err = await rejectionOf(s.next());
    expect(err).toBeInstanceOf(RpcError);
    expect([err.code, err.details]).toEqual(['NOT_FOUND', { which: 7 }]);
    const t = client.openStream('total');
    const e2 = await rejectionOf(t.response);
    expect(e2.code).toBe('CANCELLED');
    expect((await rejectionOf(t.write({ x: 1 }))).code).toBe('CANCELLED');
  });

  it('a deadline that passes mid-stream fails both ends with DEADLINE_EXCEEDED', async () => {
    const { server, client } = await pair();
    const handlerAborted = deferred<unknown>();
    server.handleStream('count', async (_req, stream) => {
      expect(stream.deadline).toBeTypeOf('number');
      stream.signal.addEventListener('abort', () => handlerAborted.resolve(stream.signal.reason));
      await stream.write({ i: 0, text: 'one' });
      await new Promise(() => {}); // never finishes
    });
    const s = client.openStream('count', { n: 1 }, { timeoutMs: 200 });
    expect((await s.next()).value!.i).toBe(0);
    expect((await rejectionOf(s.next())).code).toBe('DEADLINE_EXCEEDED');
    expect(((await handlerAborted.promise) as RpcError).code).toBe('DEADLINE_EXCEEDED');
  });

  it('a peer closing mid-stream fails the opener with UNAVAILABLE and aborts the handler', async () => {
    const { server, client } = await pair();
    const aborted = deferred<void>();
    server.handleStream('count', async (_req, stream) => {
      stream.signal.addEventListener('abort', () => aborted.resolve());
      for (let i = 0; ; i++) await stream.write({ i, text: 'x' });
    });
    const s = client.openStream('count', { n: 0 });
    await s.next();
    server.peers()[0]!.connection.destroy();
    const err = await rejectionOf(collect(s));
    expect(err.code).toBe('UNAVAILABLE');
    await aborted.promise;
    // and the other way: the opener goes away while the handler reads its requests
    const { server: server2, client: client2 } = await pair();
    const handlerErr = deferred<unknown>();
    server2.handleStream('total', async (requests) => {
      try {
        for await (const _ of requests) void _;
      } catch (e) {
        handlerErr.resolve(e);
      }
      return { sum: 0 };
    });
    const up = client2.openStream('total');
    await up.write({ x: 1 });
    await waitFor(() => server2.peers()[0]?.stats().streams === 1, 'the stream to open');
    client2.connection!.destroy();
    expect(((await handlerErr.promise) as RpcError).code).toBe('UNAVAILABLE');
  });

  it('1,000 streams open at once on one connection, each with its own data', async () => {
    const { server, client } = await pair();
    const gate = deferred<void>();
    let open = 0;
    server.handleStream('count', async function* (req) {
      open++;
      await gate.promise;
      for (let i = 0; i < 3; i++) yield { i, text: String(req.n) };
    });
    const streams = Array.from({ length: 1000 }, (_, n) => client.openStream('count', { n }));
    await waitFor(() => open === 1000, '1000 handlers running');
    expect(client.connection!.stats().streams).toBe(1000);
    gate.resolve();
    const results = await Promise.all(streams.map((s) => collect(s)));
    results.forEach((items, n) => expect(items.map((v) => v.text)).toEqual([String(n), String(n), String(n)]));
    expect(client.connection!.stats().streams).toBe(0);
  });

  it("beyond the peer's maxStreams, opening fails with RESOURCE_EXHAUSTED; the peer's limit is enforced by RESET", async () => {
    const { server, client } = await pair('unix', { maxStreams: 2 });
    server.handleStream('hang', () => new Promise(() => {}));
    const a = client.openStream('hang', {});
    const b = client.openStream('hang', {});
    const c = client.openStream('hang', {});
    expect((await rejectionOf(c.next())).code).toBe('RESOURCE_EXHAUSTED');
    a.cancel();
    b.cancel();
  });

  it('a slow consumer stalls only its own stream: the producer waits for credit while events, calls and other streams flow', async () => {
    const { server, client } = await pair('unix', {}, { streamWindow: 64 * 1024 });
    let produced = 0;
    let producerWaiting = false;
    server.handleStream('chunks', async (req, stream) => {
      const slow = req.n === 1000;
      for (let i = 0; i < req.n; i++) {
        const p = stream.write({ data: new Uint8Array(req.size).fill(i & 0xff) });
        if (slow) producerWaiting = true;
        await p;
        if (!slow) continue;
        producerWaiting = false;
        produced++;
      }
    });
    server.handle('add', (r) => ({ sum: r.a + r.b }));
    const seen: number[] = [];
    server.on('ping', (v) => void seen.push(v.n));
    const slow = client.openStream('chunks', { n: 1000, size: 8 * 1024 });
    // Read nothing: the producer must stop at about one window (64 KiB = 8 chunks, message framing aside).
    await waitFor(() => produced > 0 && producerWaiting, 'the producer to block on credit');
    await new Promise((r) => setTimeout(r, 100));
    expect(produced).toBeLessThanOrEqual(8);
    // Events, calls and another stream all flow meanwhile.
    for (let n = 0; n < 100; n++) void client.send('ping', { n });
    expect(await client.call('add', { a: 20, b: 22 })).toEqual({ sum: 42 });
    const fast = await collect(client.openStream('chunks', { n: 50, size: 16 * 1024 }));
    expect(fast).toHaveLength(50);
    await waitFor(() => seen.length === 100, 'every event');
    expect(client.connection!.stats().readPaused).toEqual([]);
    expect(produced).toBeLessThanOrEqual(8);
    // The slow consumer catches up: everything arrives, in order, intact.
    let i = 0;
    for await (const chunk of slow) {
      expect(chunk.data.length).toBe(8 * 1024);
      expect(chunk.data[0]).toBe(i++ & 0xff);
    }
    expect(i).toBe(1000);
  });

  it('a value the consumer keeps never changes under it', async () => {
    const { server, client } = await pair();
    server.handleStream('chunks', async function* (req) {
      for (let i = 0; i < req.n; i++) yield { data: new Uint8Array(req.size).fill(i) };
    });
    const kept = await collect(client.openStream('chunks', { n: 64, size: 20_000 }));
    kept.forEach((c, i) => expect(c.data.every((b) => b === i)).toBe(true));
  });

  it('a message above the peer stream window is refused at the sender with RESOURCE_EXHAUSTED', async () => {
    const { server, client } = await pair('unix', { streamWindow: 4096 });
    server.handleStream('echo', async (requests) => {
      for await (const _ of requests) void _;
    });
    const s = client.openStream('echo');
    const err = await rejectionOf(s.write({ i: 1, text: 'x'.repeat(5000) }));
    expect(err.code).toBe('RESOURCE_EXHAUSTED');
    s.cancel();
  });

  it('unknown or unhandled stream methods are reset with UNKNOWN_METHOD; the connection goes on', async () => {
    const { client } = await pair();
    expect((await rejectionOf(client.openStream('count', { n: 1 }).next())).code).toBe('UNKNOWN_METHOD');
    expect(await client.call('add', { a: 1, b: 1 }).catch((e: RpcError) => e.code)).toBe('UNKNOWN_METHOD');
  });
});

describe('streams and peers that break the rules or lack the feature', () => {
  it('a peer without the "streams" feature: openStream fails with UNIMPLEMENTED, events and calls work', async () => {
    const { server, client } = await pair('unix', {}, { features: ['clock', 'keepalive'] });
    server.handle('add', (r) => ({ sum: r.a + r.b }));
    expect(client.connection!.streamsEnabled).toBe(false);
    expect((await rejectionOf(client.openStream('count', { n: 1 }).next())).code).toBe('UNIMPLEMENTED');
    expect((await rejectionOf(server.peers()[0]!.openStream('count', { n: 1 }).next())).code).toBe('UNIMPLEMENTED');
    expect(await client.call('add', { a: 2, b: 2 })).toEqual({ sum: 4 });
  });

  it('a version-1 peer without the feature that sends kind 5 gets GOAWAY PROTOCOL_ERROR (BAD_KIND)', async () => {
    const server = await startServer<Reg>('unix', { registry: streamRegistry });
    const raw = await rawConnect(urlOf(server));
    raw.write(helloFrame(streamRegistry, { features: [] }));
    await raw.frame((f) => f.kind === Kind.CONTROL && f.type === ControlType.HELLO, 'HELLO');
    raw.write(encodeFrame(Kind.OPEN, 200, 1, pack({ n: 1 }), undefined, Flags.END));
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
  });

  it('a raw peer that ignores its window gets GOAWAY PROTOCOL_ERROR', async () => {
    const server = await startServer<Reg>('unix', { registry: streamRegistry, streamWindow: 4096 });
    server.handleStream('echo', async (requests) => {
      for await (const _ of requests) await new Promise(() => {}); // never reads on
    });
    const raw = await rawConnect(urlOf(server));
    raw.write(helloFrame(streamRegistry, { features: ['streams'] }));
    const hello = await raw.frame((f) => f.kind === Kind.CONTROL && f.type === ControlType.HELLO, 'HELLO');
    void hello;
    raw.write(encodeFrame(Kind.OPEN, 202, 1, Buffer.alloc(0)));
    const msg = pack({ i: 1, text: 'x'.repeat(1000) });
    for (let k = 0; k < 5; k++) raw.write(encodeFrame(Kind.DATA, 202, 1, msg)); // 5 × ~1 KiB > 4096
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
    const goaway = raw.frames.find((f) => f.kind === Kind.CONTROL && f.type === ControlType.GOAWAY)!;
    expect(decodeErrorPayload(goaway.payload).message).toMatch(/credit/);
  });

  it('a raw peer: OPEN with the wrong parity or a duplicate id is PROTOCOL_ERROR; DATA for an unknown stream is ignored', async () => {
    const server = await startServer<Reg>('unix', { registry: streamRegistry });
    server.handle('add', (r) => ({ sum: r.a + r.b }));
    const raw = await rawConnect(urlOf(server));
    raw.write(helloFrame(streamRegistry, { features: ['streams'] }));
    await raw.frame((f) => f.kind === Kind.CONTROL && f.type === ControlType.HELLO, 'HELLO');
    raw.write(encodeFrame(Kind.DATA, 202, 99, pack({ i: 1, text: 'x' })));
    raw.write(encodeFrame(Kind.REQUEST, 100, 5, pack({ a: 1, b: 2 })));
    await raw.frame((f) => f.kind === Kind.RESPONSE && f.id === 5, 'the call answered');
    raw.write(encodeFrame(Kind.OPEN, 202, 2, Buffer.alloc(0)));
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
  });
});

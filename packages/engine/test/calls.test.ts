/** Typed calls in both directions: results, errors, deadlines, cancellation; over unix and tcp. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ControlType, Kind, SchemaViolationError, decodeErrorPayload, encodeFrame, pack, unpack } from '@vsock-rpc/wire';
import { ConnectionClosedError, RpcError, type CallContext } from '../src/index.js';
import { TRANSPORTS, deferred, helloFrame, rawConnect, rejectionOf, startPair, useCleanup, waitFor, type TestRegistry } from './helpers.js';

useCleanup();

describe.each(TRANSPORTS)('calls over %s', (transport) => {
  it('echo resolves with the typed response (bigint intact)', async () => {
    const { server, client } = await startPair(transport);
    server.handle('echo', (req) => ({ timestamp: req.timestamp + 1n, str: req.str.toLowerCase() }));
    server.handle('add', (req) => ({ sum: req.a + req.b }));
    const r = await client.call('echo', { timestamp: 2n ** 63n - 2n, str: 'HELLO' });
    expectTypeOf(r).toEqualTypeOf<{ timestamp: bigint; str: string }>();
    expect(r).toEqual({ timestamp: 2n ** 63n - 1n, str: 'hello' });
    const sum = await client.call('add', { a: 2, b: 40 }, { timeoutMs: 10_000 });
    expectTypeOf(sum).toEqualTypeOf<{ sum: number }>();
    expect(sum.sum).toBe(42);
  });

  it('128 concurrent calls, completed in shuffled order, each get their own answer', async () => {
    const { server, client } = await startPair(transport);
    const N = 128;
    const gates = new Map<number, () => void>();
    server.handle('sleep', async (req) => {
      await new Promise<void>((resolve) => gates.set(req.tag, resolve));
      return { tag: req.tag * 10 };
    });
    const resolvedOrder: number[] = [];
    const calls = Array.from({ length: N }, (_, tag) =>
      client.call('sleep', { ms: 0, tag }).then((r) => {
        resolvedOrder.push(tag);
        return r;
      }),
    );
    await waitFor(() => gates.size === N, 'every handler running');
    expect(client.connection!.stats().pendingCalls).toBe(N);
    // Release in a fixed pseudo-random order.
    const order = Array.from({ length: N }, (_, i) => (i * 37 + 11) % N);
    for (const tag of order) gates.get(tag)!();
    const results = await Promise.all(calls);
    expect(results).toEqual(Array.from({ length: N }, (_, tag) => ({ tag: tag * 10 })));
    expect(resolvedOrder).not.toEqual(Array.from({ length: N }, (_, i) => i)); // truly out of order
    expect(client.connection!.stats().pendingCalls).toBe(0);
  });

  it('64 calls with random handler delays all correlate', async () => {
    const { server, client } = await startPair(transport);
    server.handle('sleep', async (req) => {
      await new Promise((r) => setTimeout(r, req.ms));
      return { tag: req.tag };
    });
    const results = await Promise.all(Array.from({ length: 64 }, (_, tag) => client.call('sleep', { ms: Math.floor(Math.random() * 30), tag })));
    expect(results.map((r) => r.tag)).toEqual(Array.from({ length: 64 }, (_, i) => i));
  });

  it("a handler's RpcError keeps its code and details; a plain Error becomes INTERNAL", async () => {
    const { server, client } = await startPair(transport);
    server.handle('fail', (req) => {
      if (req.code) throw new RpcError(req.code, req.message, { which: 'thing-7' });
      throw new Error(req.message);
    });
    const notFound = await rejectionOf(client.call('fail', { code: 'NOT_FOUND', message: 'no such thing' }));
    expect(notFound).toBeInstanceOf(RpcError);
    expect(notFound.code).toBe('NOT_FOUND');
    expect(notFound.message).toContain('no such thing');
    expect(notFound.details).toEqual({ which: 'thing-7' });
    const internal = await rejectionOf(client.call('fail', { message: 'oops' }));
    expect(internal).toBeInstanceOf(RpcError);
    expect(internal.code).toBe('INTERNAL');
    expect(internal.message).toContain('oops');
    // The connection is fine afterwards.
    server.handle('add', (r) => ({ sum: r.a + r.b }));
    expect(await client.call('add', { a: 1, b: 1 })).toEqual({ sum: 2 });
  });

  it('a method without a handler answers UNKNOWN_METHOD at once (no hang)', async () => {
    const { client } = await startPair(transport);
    const err = await rejectionOf(client.call('nobody', {}));
    expect(err).toBeInstanceOf(RpcError);
    expect(err.code).toBe('UNKNOWN_METHOD');
    expect(err.message).toContain('nobody');
  });

  it('a handler whose response breaks the schema gives INTERNAL', async () => {
    const { server, client } = await startPair(transport);
    server.handle('add', () => ({ sum: 'many' }) as unknown as { sum: number });
    const err = await rejectionOf(client.call('add', { a: 1, b: 2 }));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toMatch(/sum/);
  });

  it('a request that breaks its schema is refused locally with the failing path', async () => {
    const { server, client } = await startPair(transport);
    let ran = false;
    server.handle('add', (r) => {
      ran = true;
      return { sum: r.a + r.b };
    });
    const err = await rejectionOf(client.call('add', { a: 'one', b: 2 } as unknown as { a: number; b: number }));
    expect(err).toBeInstanceOf(SchemaViolationError);
    expect(err.path).toBe('/a');
    expect(ran).toBe(false);
  });

  it('a request that breaks its schema on the wire gets INVALID_ARGUMENT with details.path', async () => {
    const { server, url } = await startPair(transport);
    server.handle('add', (r) => ({ sum: r.a + r.b }));
    const raw = await rawConnect(url);
    raw.write(helloFrame());
    raw.write(encodeFrame(Kind.REQUEST, 103, 9, pack({ a: 'one', b: 2 })));
    raw.write(encodeFrame(Kind.REQUEST, 103, 10, pack({ a: 1, b: 2 })));
    const bad = await raw.frame((f) => f.id === 9, 'answer to call 9');
    expect(bad.kind).toBe(Kind.ERROR);
    const p = decodeErrorPayload(bad.payload);
    expect(p.code).toBe('INVALID_ARGUMENT');
    expect(p.details).toEqual({ path: '/a' });
    const good = await raw.frame((f) => f.id === 10, 'answer to call 10');
    expect(good.kind).toBe(Kind.RESPONSE);
    expect(unpack(good.payload)).toEqual({ sum: 3 });
  });

  it('timeoutMs → DEADLINE_EXCEEDED at the caller; the deadline travels and the handler sees its signal abort', async () => {
    const { server, client } = await startPair(transport);
    const started = deferred<CallContext>();
    const aborted = deferred<unknown>();
    server.handle('sleep', (req, ctx) => {
      started.resolve(ctx);
      return new Promise((_, reject) => {
        ctx.signal.addEventListener('abort', () => {
          aborted.resolve(ctx.signal.reason);
          reject(ctx.signal.reason);
        });
      });
    });
    const call = client.call('sleep', { ms: 1e6, tag: 1 }, { timeoutMs: 300 });
    const ctx = await started.promise;
    expect(ctx.deadline).toBeTypeOf('number');
    expect(ctx.method).toBe('sleep');
    const err = await rejectionOf(call);
    expect(err).toBeInstanceOf(RpcError);
    expect(err.code).toBe('DEADLINE_EXCEEDED');
    const reason = await aborted.promise;
    expect(['DEADLINE_EXCEEDED', 'CANCELLED']).toContain((reason as RpcError).code);
    await waitFor(() => server.peers()[0]!.stats().runningHandlers === 0, 'the handler to be forgotten');
  });

  it("the responder enforces the caller's deadline itself (no CANCEL needed)", async () => {
    const { server, url } = await startPair(transport);
    const reason = deferred<unknown>();
    server.handle(
      'sleep',
      (_req, ctx) =>
        new Promise((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            reason.resolve(ctx.signal.reason);
            resolve({ tag: 0 });
          }),
        ),
    );
    const raw = await rawConnect(url);
    raw.write(helloFrame());
    // REQUEST with the DEADLINE flag: u32 deadline 150 ms, then the request.
    const body = pack({ ms: 1e6, tag: 1 });
    const payload = Buffer.concat([Buffer.from([150, 0, 0, 0]), body]);
    const frame = encodeFrame(Kind.REQUEST, 101, 5, payload);
    frame[7] = 0x01;
    raw.write(frame);
    expect(((await reason.promise) as RpcError).code).toBe('DEADLINE_EXCEEDED');
    const answer = await raw.frame((f) => f.id === 5, 'the answer to call 5');
    expect(answer.kind).toBe(Kind.ERROR);
    expect(decodeErrorPayload(answer.payload).code).toBe('DEADLINE_EXCEEDED');
  });

  it('AbortSignal → CANCELLED at the caller; CANCEL aborts the handler on the server', async () => {
    const { server, client } = await startPair(transport);
    const started = deferred();
    const aborted = deferred<unknown>();
    server.handle('sleep', (_req, ctx) => {
      started.resolve();
      return new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => {
          aborted.resolve(ctx.signal.reason);
          reject(ctx.signal.reason);
        }),
      );
    });
    const ac = new AbortController();
    const call = client.call('sleep', { ms: 1e6, tag: 1 }, { signal: ac.signal });
    await started.promise;
    ac.abort();
    const err = await rejectionOf(call);
    expect(err).toBeInstanceOf(RpcError);
    expect(err.code).toBe('CANCELLED');
    expect(((await aborted.promise) as RpcError).code).toBe('CANCELLED');
    await waitFor(() => server.peers()[0]!.stats().runningHandlers === 0, 'the handler to be forgotten');
    // A signal already aborted: rejected without sending.
    expect((await rejectionOf(client.call('sleep', { ms: 0, tag: 2 }, { signal: ac.signal }))).code).toBe('CANCELLED');
  });

  it('a call cancelled in the same tick it was made never leaves a handler running', async () => {
    const { server, client } = await startPair(transport);
    let started = 0;
    server.handle('sleep', (_req, ctx) => {
      started++;
      return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    });
    server.handle('add', (r) => ({ sum: r.a + r.b }));
    const ac = new AbortController();
    const call = client.call('sleep', { ms: 1e6, tag: 1 }, { signal: ac.signal });
    ac.abort(); // before the REQUEST has left the batch
    expect((await rejectionOf(call)).code).toBe('CANCELLED');
    // A later call is answered after anything the server could have done with the first.
    expect(await client.call('add', { a: 1, b: 2 })).toEqual({ sum: 3 });
    await waitFor(() => server.peers()[0]!.stats().runningHandlers === 0, 'no handler left running');
    expect(started).toBe(0);
  });

  it('the server calls the client (both directions on one connection)', async () => {
    const { server, client } = await startPair(transport);
    client.handle('add', (r, ctx) => {
      expect(ctx.name).toBe('test-server');
      return { sum: r.a + r.b };
    });
    server.handle('add', (r) => ({ sum: r.a * r.b }));
    const peer = server.peers()[0]!;
    const [fromClient, fromServer] = await Promise.all([peer.call('add', { a: 3, b: 4 }), client.call('add', { a: 3, b: 4 })]);
    expectTypeOf(fromClient).toEqualTypeOf<{ sum: number }>();
    expect(fromClient).toEqual({ sum: 7 });
    expect(fromServer).toEqual({ sum: 12 });
    const err = await rejectionOf(peer.call('nobody', {}, { timeoutMs: 10_000 }));
    expect(err.code).toBe('UNKNOWN_METHOD');
  });

  it('calls in flight fail with UNAVAILABLE when the connection dies', async () => {
    const { server, client } = await startPair(transport, {}, { reconnect: false });
    const started = deferred();
    server.handle('sleep', () => {
      started.resolve();
      return new Promise(() => {});
    });
    const call = client.call('sleep', { ms: 1e6, tag: 1 });
    await started.promise;
    server.peers()[0]!.connection.destroy();
    const err = await rejectionOf(call);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect(err.code).toBe('UNAVAILABLE');
  });
});

describe('call typing (compile time)', () => {
  it('call() takes the request type and resolves to the response type', () => {
    type C = Awaited<ReturnType<typeof startPair>>['client'];
    const check = async (client: C) => {
      const r = await client.call('sleep', { ms: 1, tag: 2 });
      expectTypeOf(r).toEqualTypeOf<{ tag: number }>();
      expectTypeOf(client.call('echo', { timestamp: 1n, str: 'x' })).resolves.toEqualTypeOf<{ timestamp: bigint; str: string }>();
      // @ts-expect-error wrong request shape
      await client.call('add', { a: 1 });
      // @ts-expect-error unknown method
      await client.call('subtract', { a: 1, b: 2 });
      // @ts-expect-error a message is not a method
      await client.call('seq', { n: 1 });
    };
    expectTypeOf(check).toBeFunction();
    type H = Parameters<C['handle']>;
    expectTypeOf<H[0]>().toEqualTypeOf<'echo' | 'sleep' | 'fail' | 'add' | 'nobody'>();
    const typedHandlerCheck = (client: C) => {
      // @ts-expect-error a handler must return the response type
      client.handle('add', () => ({ total: 1 }));
      client.handle('add', async (r) => ({ sum: r.a + r.b }));
    };
    expectTypeOf(typedHandlerCheck).toBeFunction();
    expectTypeOf<TestRegistry>().not.toBeAny();
  });
});

void ControlType;

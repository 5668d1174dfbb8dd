/**
 * The connection-wide bound on stream messages received and not yet read
 * (`maxStreamBufferBytes`): credit bounds one stream to its window, but a peer may open
 * `maxStreams` of them. Past the bound, the stream whose DATA would exceed it is reset with
 * RESOURCE_EXHAUSTED; streams within it, calls and new streams go on.
 */
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { defineRegistry } from '@vsock-rpc/wire';
import { RpcError } from '../src/index.js';
import { connectClient, startServer, urlOf, useCleanup, waitFor } from './helpers.js';

useCleanup();

const Chunk = Type.Object({ data: Type.Uint8Array() });
const registry = defineRegistry({
  methods: { add: { id: 100, request: Type.Object({ a: Type.Integer(), b: Type.Integer() }), response: Type.Object({ sum: Type.Integer() }) } },
  streams: {
    hoard: { id: 300, mode: 'client', request: Chunk, response: Type.Object({}) },
    count: { id: 301, mode: 'client', request: Chunk, response: Type.Object({ bytes: Type.Integer() }) },
  },
});
type Reg = typeof registry;

describe('maxStreamBufferBytes', () => {
  it('a stream that would take the connection past the bound is reset; the others, calls and new streams go on', async () => {
    const CHUNK = 64 * 1024;
    const server = await startServer<Reg>('unix', { registry, streamWindow: 256 * 1024, maxStreamBufferBytes: 1024 * 1024 });
    server.handleStream('hoard', async () => new Promise<Record<string, never>>(() => {})); // never reads
    server.handleStream('count', async (requests) => {
      let bytes = 0;
      for await (const r of requests) bytes += r.data.length;
      return { bytes };
    });
    server.handle('add', (r) => ({ sum: r.a + r.b }));
    const client = await connectClient<Reg>(urlOf(server), { registry, streamWindow: 256 * 1024 });

    // Eight streams of three 64 KiB chunks each (every frame 64 KiB + a few bytes): 15 chunks fit
    // in 1 MiB, so streams 1–5 are held and streams 6, 7 and 8 each overflow on their first chunk.
    const outcomes: (RpcError | undefined)[] = Array.from({ length: 8 }, () => undefined);
    for (let k = 0; k < 8; k++) {
      const s = client.openStream('hoard');
      s.response.catch((err: unknown) => void (outcomes[k] = err as RpcError));
      for (let c = 0; c < 3; c++) await s.write({ data: Buffer.alloc(CHUNK, k) }).catch(() => {});
    }
    await waitFor(() => outcomes.filter(Boolean).length >= 3, 'three streams to be reset');
    expect(outcomes.slice(5).map((e) => e?.code)).toEqual(['RESOURCE_EXHAUSTED', 'RESOURCE_EXHAUSTED', 'RESOURCE_EXHAUSTED']);
    expect(outcomes[5]!.message).toMatch(/maxStreamBufferBytes/);

    // The connection goes on: a call, and a stream whose handler reads what it gets.
    expect(await client.call('add', { a: 2, b: 3 })).toEqual({ sum: 5 });
    const reader = client.openStream('count');
    for (let c = 0; c < 8; c++) await reader.write({ data: Buffer.alloc(CHUNK, 1) });
    await reader.end();
    expect(await reader.response).toEqual({ bytes: 8 * CHUNK });
    // Everything the server sent before that response has arrived: streams 1–5 are still held, not reset.
    expect(outcomes.slice(0, 5)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

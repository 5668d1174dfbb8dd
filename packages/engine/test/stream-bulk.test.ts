/**
 * Bulk bodies on streams (PROTOCOL.md §11, §12): where both HELLOs list "streams" and "bulk", a
 * DATA message whose top-level binary is at least BULK_THRESHOLD bytes leaves as a BODY frame
 * (from the caller's buffer) and arrives in a buffer of exactly its size; the credit counts the
 * frame's whole payload. Without "bulk" on either side the same messages go as plain DATA.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { BULK_THRESHOLD, ControlType, Flags, FrameEncoder, Kind, decodeErrorPayload, defineRegistry, pack } from '@vsock-rpc/wire';
import { connectClient, helloFrame, rawConnect, startServer, urlOf, useCleanup, waitFor } from './helpers.js';

useCleanup();

const Chunk = Type.Object({ n: Type.Integer(), data: Type.Uint8Array() });
const registry = defineRegistry({
  streams: {
    upload: { id: 300, mode: 'client', request: Chunk, response: Type.Object({ chunks: Type.Integer(), sha256: Type.String() }) },
    download: { id: 301, mode: 'server', request: Type.Object({ n: Type.Integer(), size: Type.Integer() }), response: Chunk },
    snapshot: { id: 302, mode: 'client', request: Type.Object({ n: Type.Integer() }), response: Chunk },
  },
});
type Reg = typeof registry;

const NO_BULK = ['clock', 'keepalive', 'streams'];

async function pair(serverOptions: Record<string, unknown> = {}, clientOptions: Record<string, unknown> = {}) {
  const server = await startServer<Reg>('unix', { registry, ...serverOptions });
  const client = await connectClient<Reg>(urlOf(server), { registry, ...clientOptions });
  await waitFor(() => server.peers().length === 1, 'the server to see the client');
  return { server, client };
}

describe('streams with bulk bodies', () => {
  it.each([
    ['both list "bulk"', {}, {}, true],
    ['the client does not', {}, { features: NO_BULK }, false],
    ['the server does not', { features: NO_BULK }, {}, false],
  ])('%s: a client stream of large and small chunks arrives intact, in order', async (_name, serverOptions, clientOptions, bulk) => {
    const windows = { streamWindow: 2 * 1024 * 1024 };
    const { server, client } = await pair({ ...windows, ...serverOptions }, { ...windows, ...clientOptions });
    const kept: { n: number; data: Uint8Array }[] = [];
    server.handleStream('upload', async (requests) => {
      const hash = createHash('sha256');
      for await (const c of requests) {
        kept.push(c);
        hash.update(c.data);
      }
      return { chunks: kept.length, sha256: hash.digest('hex') };
    });
    const sizes = [200_000, 10, BULK_THRESHOLD, BULK_THRESHOLD - 1, 1024 * 1024, 64 * 1024];
    const sent = sizes.map((s) => randomBytes(s));
    const expected = createHash('sha256');
    const s = client.openStream('upload');
    for (const [n, data] of sent.entries()) {
      expected.update(data);
      await s.write({ n, data });
    }
    await s.end();
    expect(await s.response).toEqual({ chunks: sent.length, sha256: expected.digest('hex') });
    kept.forEach((c, i) => {
      expect(c.n).toBe(i);
      expect(Buffer.from(c.data).equals(sent[i]!)).toBe(true);
    });
    // A BODY arrives in a buffer of exactly its size, and only chunks at or above the threshold go as one.
    expect(kept[0]!.data.buffer.byteLength === 200_000).toBe(bulk);
    expect(kept[4]!.data.buffer.byteLength === 1024 * 1024).toBe(bulk);
    expect(kept[3]!.data.buffer.byteLength === BULK_THRESHOLD - 1).toBe(false);
  });

  it('server streaming: chunks kept by the reader never change as later ones arrive, across many windows', async () => {
    const { server, client } = await pair({ streamWindow: 256 * 1024 }, { streamWindow: 256 * 1024 });
    server.handleStream('download', async function* (req) {
      for (let n = 0; n < req.n; n++) yield { n, data: Buffer.alloc(req.size, n & 0xff) };
    });
    const got: { n: number; data: Uint8Array }[] = [];
    for await (const c of client.openStream('download', { n: 64, size: 100_000 })) got.push(c);
    expect(got.map((c) => c.n)).toEqual([...Array(64).keys()]);
    got.forEach((c) => {
      expect(c.data.length).toBe(100_000);
      expect(c.data.buffer.byteLength).toBe(100_000);
      expect(c.data.every((b) => b === (c.n & 0xff))).toBe(true);
    });
  });

  it("a 'client' stream's one response can be a BODY frame with END", async () => {
    const { server, client } = await pair();
    const blob = randomBytes(200_000);
    server.handleStream('snapshot', async (requests) => {
      let n = 0;
      for await (const r of requests) n += r.n;
      return { n, data: blob };
    });
    const s = client.openStream('snapshot');
    await s.write({ n: 2 });
    await s.write({ n: 5 });
    await s.end();
    const res = await s.response;
    expect(res.n).toBe(7);
    expect(Buffer.from(res.data).equals(blob)).toBe(true);
    expect(res.data.buffer.byteLength).toBe(200_000);
  });

  it('a raw peer whose BODY DATA exceeds its credit gets GOAWAY PROTOCOL_ERROR (the body counts)', async () => {
    const server = await startServer<Reg>('unix', { registry, streamWindow: 64 * 1024 });
    server.handleStream('upload', async (requests) => {
      for await (const _ of requests) await new Promise(() => {}); // never reads on
      return { chunks: 0, sha256: '' };
    });
    const raw = await rawConnect(urlOf(server));
    raw.write(helloFrame(registry, { features: ['streams', 'bulk'] }));
    await raw.frame((f) => f.kind === Kind.CONTROL && f.type === ControlType.HELLO, 'HELLO');
    const enc = new FrameEncoder();
    enc.push(Kind.OPEN, 300, 1, Buffer.alloc(0));
    // Value and length prefix are a few bytes: only the body can take the frame past 64 KiB.
    enc.pushBulk(Kind.DATA, 300, 1, pack(['data', { n: 0 }]), Buffer.alloc(64 * 1024, 1));
    for (const c of enc.take()) raw.write(c);
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
    const goaway = raw.frames.find((f) => f.kind === Kind.CONTROL && f.type === ControlType.GOAWAY)!;
    expect(decodeErrorPayload(goaway.payload).message).toMatch(/credit/);
  });

  it('a raw peer that sends BODY on OPEN gets GOAWAY PROTOCOL_ERROR (BODY is for EVENT and DATA only)', async () => {
    const server = await startServer<Reg>('unix', { registry });
    const raw = await rawConnect(urlOf(server));
    raw.write(helloFrame(registry, { features: ['streams', 'bulk'] }));
    await raw.frame((f) => f.kind === Kind.CONTROL && f.type === ControlType.HELLO, 'HELLO');
    const enc = new FrameEncoder();
    enc.pushBulk(Kind.OPEN, 300, 1, pack(['data', { n: 0 }]), Buffer.alloc(100, 1), Flags.END);
    for (const c of enc.take()) raw.write(c);
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
  });
});

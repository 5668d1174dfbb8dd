/**
 * Bulk bodies end to end (PROTOCOL.md §12): where both HELLOs list "bulk", a large binary field of
 * an event leaves as a BODY frame written from the caller's buffer and arrives as a buffer of
 * exactly its size; where either side lacks the feature, the same events go as plain payloads.
 * A peer that lies about a body's length is closed with PROTOCOL_ERROR.
 */
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { BULK_THRESHOLD, Codec, ControlType, Flags, FrameEncoder, Kind, encodeFrame } from '@vsock-rpc/wire';
import { helloFrame, rawConnect, startPair, startServer, testRegistry, tmpSockPath, track, urlOf, useCleanup, waitFor, connectClient } from './helpers.js';

useCleanup();

const NO_BULK = ['clock', 'keepalive', 'streams'];
const BLOB_ID = testRegistry.message('blob').id;
const codec = new Codec(testRegistry);

function bytesOf(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

type Blob = { n: number; data: Uint8Array };

describe('bulk events between engines', () => {
  it.each([
    ['both list "bulk"', {}, {}, true],
    ['the client does not', {}, { features: NO_BULK }, false],
    ['the server does not', { features: NO_BULK }, {}, false],
  ])('%s: large and small blobs arrive intact, in order', async (_name, serverOptions, clientOptions, bulk) => {
    const { server, client } = await startPair('unix', serverOptions, clientOptions);
    const got: Blob[] = [];
    server.on('blob', (v) => void got.push(v));
    const sent = [bytesOf(100_000, 1), bytesOf(10, 2), bytesOf(BULK_THRESHOLD, 3), bytesOf(1024 * 1024, 4)];
    sent.forEach((data, n) => void client.send('blob', { n, data }));
    await client.flush();
    await waitFor(() => got.length === sent.length, 'every blob');
    got.forEach((v, i) => {
      expect(v.n).toBe(i);
      expect(Buffer.from(v.data).equals(sent[i]!)).toBe(true);
    });
    // A BODY arrives in a buffer of exactly its size; a plain payload's binary is a view into its frame.
    expect(got[0]!.data.buffer.byteLength === 100_000).toBe(bulk);
    expect(got[3]!.data.buffer.byteLength === 1024 * 1024).toBe(bulk);
  });

  it('a blob the handler keeps never changes when later blobs arrive', async () => {
    const { server, client } = await startPair('unix');
    const got: Blob[] = [];
    server.on('blob', (v) => void got.push(v));
    const first = bytesOf(200_000, 7);
    const copy = Buffer.from(first);
    void client.send('blob', { n: 0, data: first });
    for (let i = 1; i < 20; i++) void client.send('blob', { n: i, data: bytesOf(200_000, i + 100) });
    await client.flush();
    await waitFor(() => got.length === 20, 'every blob');
    expect(Buffer.from(got[0]!.data).equals(copy)).toBe(true);
  });

  it('to a raw peer that lists "bulk": a BODY frame, header + value then the body', async () => {
    const path = tmpSockPath();
    const received: Buffer[] = [];
    const srv = net.createServer((s) => {
      s.on('data', (c: Buffer) => void received.push(c));
      s.write(helloFrame(testRegistry, { features: ['bulk'] }));
    });
    await new Promise<void>((r) => srv.listen(path, r));
    track(srv, (s) => new Promise<void>((r) => s.close(() => r())));
    const client = await connectClient(`unix://${path}`, { reconnect: false, clock: false, keepaliveMs: 0 });
    const data = bytesOf(64 * 1024, 9);
    void client.send('blob', { n: 3, data });
    await client.flush();
    const frames = (): { flags: number; kind: number; payload: Buffer }[] => {
      const all = Buffer.concat(received);
      const out = [];
      for (let o = 0; o + 12 <= all.length;) {
        const len = all.readUInt32LE(o);
        if (o + 12 + len > all.length) break;
        out.push({ kind: all[o + 6]!, flags: all[o + 7]!, payload: all.subarray(o + 12, o + 12 + len) });
        o += 12 + len;
      }
      return out;
    };
    await waitFor(() => frames().some((f) => f.kind === Kind.EVENT), 'the event');
    const ev = frames().find((f) => f.kind === Kind.EVENT)!;
    expect(ev.flags).toBe(Flags.BODY);
    const bodyLength = ev.payload.readUInt32LE(0);
    expect(bodyLength).toBe(data.length);
    const value = ev.payload.subarray(4, ev.payload.length - bodyLength);
    expect(codec.decodeMessageAt(testRegistry.message('blob'), value, 0, value.length, false, ev.payload.subarray(ev.payload.length - bodyLength))).toEqual({
      n: 3,
      data: expect.anything(),
    });
    expect(ev.payload.subarray(ev.payload.length - bodyLength).equals(data)).toBe(true);
  });
});

describe('BODY frames from a raw peer', () => {
  async function handshaken(features: string[]) {
    const server = await startServer('unix');
    const got: Blob[] = [];
    server.on('blob', (v) => void got.push(v));
    const raw = await rawConnect(urlOf(server));
    raw.write(helloFrame(testRegistry, { features }));
    await raw.frame((f) => f.type === ControlType.HELLO, 'the server HELLO');
    await waitFor(() => server.peers().length === 1, 'the raw peer accepted');
    return { server, raw, got };
  }

  function bodyFrame(n: number, data: Buffer): Buffer {
    const bulk = codec.encodeEntryBulk(testRegistry.message('blob'), { n, data }, 1)!;
    const enc = new FrameEncoder();
    enc.pushBulk(Kind.EVENT, BLOB_ID, 0, bulk.value, bulk.body);
    return Buffer.concat(enc.take());
  }

  it('a valid BODY frame is delivered as a buffer of exactly its size', async () => {
    const { raw, got } = await handshaken(['bulk']);
    const data = bytesOf(70_000, 5);
    const frame = bodyFrame(1, data);
    raw.write(frame.subarray(0, 5000));
    raw.write(frame.subarray(5000));
    await waitFor(() => got.length === 1, 'the blob');
    expect(Buffer.from(got[0]!.data).equals(data)).toBe(true);
    expect(got[0]!.data.buffer.byteLength).toBe(70_000);
  });

  it('a body length longer than the frame is a protocol error', async () => {
    const { raw } = await handshaken(['bulk']);
    const lie = bodyFrame(1, bytesOf(1000, 1));
    lie.writeUInt32LE(5000, 12); // the frame holds 1000 bytes of body
    raw.write(lie);
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
  });

  it('BODY from a peer that did not list "bulk" is a protocol error', async () => {
    const { raw } = await handshaken([]);
    raw.write(bodyFrame(1, bytesOf(1000, 1)));
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
  });

  it('without the feature, plain blobs from the raw peer work as before', async () => {
    const { raw, got } = await handshaken([]);
    const data = bytesOf(70_000, 6);
    raw.write(encodeFrame(Kind.EVENT, BLOB_ID, 0, codec.encodeMessage('blob', { n: 2, data })));
    await waitFor(() => got.length === 1, 'the blob');
    expect(Buffer.from(got[0]!.data).equals(data)).toBe(true);
  });
});

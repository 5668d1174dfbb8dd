/**
 * Misbehaving peers, built by hand on node:net. Each failure closes (or, for a bad event payload,
 * only drops from) the offending peer alone, and is visible three ways: a typed error, a metric
 * and exactly one log line. A well-behaved client on the same server keeps working throughout.
 */
import { describe, expect, it } from 'vitest';
import { ControlType, Kind, encodeFrame, pack } from '@vsock-rpc/wire';
import type { PeerContext } from '../src/index.js';
import {
  TRANSPORTS,
  collectingLogger,
  connectClient,
  deferred,
  helloFrame,
  metricValue,
  promRegistry,
  rawConnect,
  startServer,
  urlOf,
  useCleanup,
  waitFor,
  type RawPeer,
} from './helpers.js';

useCleanup();

type CodedError = Error & { code: string };

async function setup(transport: 'unix' | 'tcp') {
  const logger = collectingLogger();
  const prom = promRegistry();
  const server = await startServer(transport, { logger, promRegistry: prom, name: 'srv' });
  server.handle('add', (r) => ({ sum: r.a + r.b }));
  const url = urlOf(server);
  const good = await connectClient(url, { name: 'good', logger: null });
  await waitFor(() => server.peers().length === 1, 'the good client');
  const peerError = deferred<CodedError>();
  server.on('peerError', (err: CodedError) => peerError.resolve(err));
  const peerClosed = deferred<{ ctx: PeerContext; err: CodedError }>();
  server.on('peerClosed', (ctx: PeerContext, err: CodedError) => {
    if (ctx.name !== 'good') peerClosed.resolve({ ctx, err });
  });
  const goodStillWorks = async () => {
    expect(await good.call('add', { a: 40, b: 2 }, { timeoutMs: 10_000 })).toEqual({ sum: 42 });
    expect(good.connected).toBe(true);
    expect(server.peers().map((p) => p.context.name)).toEqual(['good']);
  };
  const metric = (code: string) => metricValue(prom, 'vsockrpc_errors_total', { code });
  return { server, url, logger, prom, good, peerError: peerError.promise, peerClosed: peerClosed.promise, goodStillWorks, metric };
}

/** A raw peer that has completed a valid handshake. */
async function handshaken(url: string, server: { peers(): { context: PeerContext }[] }): Promise<RawPeer> {
  const raw = await rawConnect(url);
  raw.write(helloFrame());
  await raw.frame((f) => f.type === ControlType.HELLO, 'the server HELLO');
  await waitFor(() => server.peers().some((p) => p.context.name === 'raw-peer'), 'the raw peer accepted');
  return raw;
}

describe.each(TRANSPORTS)('bad input over %s', (transport) => {
  it('garbage bytes instead of HELLO', async () => {
    const s = await setup(transport);
    const raw = await rawConnect(s.url);
    raw.write(Buffer.alloc(64, 0xff));
    const err = await s.peerError;
    expect(err.code).toBe('BAD_KIND');
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
    await raw.ended;
    expect(await s.metric('BAD_KIND')).toBe(1);
    expect(s.logger.lines).toHaveLength(1);
    expect(s.logger.lines[0]).toMatch(/kind 255/);
    await s.goodStillWorks();
  });

  it('an oversized frame header (FRAME_TOO_LARGE, before any allocation)', async () => {
    const s = await setup(transport);
    const raw = await handshaken(s.url, s.server);
    const header = Buffer.alloc(12);
    header.writeUInt32LE(0xfffffff0, 0);
    header.writeUInt16LE(10, 4);
    header[6] = Kind.EVENT;
    raw.write(header);
    const { ctx, err } = await s.peerClosed;
    expect(ctx.name).toBe('raw-peer');
    expect(err.code).toBe('FRAME_TOO_LARGE');
    expect(await raw.goaway()).toBe('FRAME_TOO_LARGE');
    await raw.ended;
    expect(await s.metric('FRAME_TOO_LARGE')).toBe(1);
    expect(s.logger.lines).toHaveLength(1);
    expect(s.logger.lines[0]).toMatch(/exceeds the maximum/);
    await s.goodStillWorks();
  });

  it('a frame larger than the HELLO limit before HELLO', async () => {
    const s = await setup(transport);
    const raw = await rawConnect(s.url);
    raw.write(encodeFrame(Kind.CONTROL, ControlType.HELLO, 0, Buffer.alloc(70_000)).subarray(0, 12));
    const err = await s.peerError;
    expect(err.code).toBe('FRAME_TOO_LARGE');
    // The HELLO limit is the protocol's: the message must not send anyone to raise maxFrame.
    expect(err.message).toMatch(/above the 65536-byte limit of a HELLO/);
    expect(err.message).not.toMatch(/raise maxFrame/);
    expect(await raw.goaway()).toBe('FRAME_TOO_LARGE');
    expect(s.logger.lines).toHaveLength(1);
    await s.goodStillWorks();
  });

  it('a frame before HELLO', async () => {
    const s = await setup(transport);
    const raw = await rawConnect(s.url);
    raw.write(encodeFrame(Kind.EVENT, 10, 0, pack({ n: 1 })));
    const err = await s.peerError;
    expect(err.code).toBe('PROTOCOL_ERROR');
    expect(err.message).toMatch(/where HELLO was expected/);
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
    await raw.ended;
    expect(await s.metric('PROTOCOL_ERROR')).toBe(1);
    expect(s.logger.lines).toHaveLength(1);
    await s.goodStillWorks();
  });

  it('an unknown event type after a valid HELLO', async () => {
    const s = await setup(transport);
    const raw = await handshaken(s.url, s.server);
    raw.write(encodeFrame(Kind.EVENT, 999, 0, pack({ n: 1 })));
    const { err } = await s.peerClosed;
    expect(err.code).toBe('UNKNOWN_TYPE');
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
    await raw.ended;
    expect(await s.metric('UNKNOWN_TYPE')).toBe(1);
    expect(s.logger.lines).toHaveLength(1);
    expect(s.logger.lines[0]).toMatch(/unknown TYPE_ id 999/);
    await s.goodStillWorks();
  });

  it('a peer that dies mid-frame (TRUNCATED_FRAME)', async () => {
    const s = await setup(transport);
    const raw = await handshaken(s.url, s.server);
    const frame = encodeFrame(Kind.EVENT, 10, 0, pack({ n: 1 }));
    raw.write(Buffer.concat([frame, frame.subarray(0, frame.length - 2)]));
    raw.socket.end();
    const { err } = await s.peerClosed;
    expect(err.code).toBe('TRUNCATED_FRAME');
    expect(await s.metric('TRUNCATED_FRAME')).toBe(1);
    expect(s.logger.lines).toHaveLength(1);
    expect(s.logger.lines[0]).toMatch(/middle of a frame/);
    await s.goodStillWorks();
  });

  it('a peer that dies mid-header', async () => {
    const s = await setup(transport);
    const raw = await handshaken(s.url, s.server);
    raw.write(encodeFrame(Kind.EVENT, 10, 0, pack({ n: 1 })).subarray(0, 5));
    raw.socket.end();
    expect((await s.peerClosed).err.code).toBe('TRUNCATED_FRAME');
    expect(s.logger.lines).toHaveLength(1);
    await s.goodStillWorks();
  });

  it('invalid event payloads are dropped and counted; the connection stays', async () => {
    const s = await setup(transport);
    const eventErrors: CodedError[] = [];
    s.server.on('eventError', (err: CodedError) => void eventErrors.push(err));
    const got: number[] = [];
    s.server.on('seq', (v) => void got.push(v.n));
    const raw = await handshaken(s.url, s.server);
    raw.write(encodeFrame(Kind.EVENT, 10, 0, pack({ n: -1 }))); // breaks minimum 0
    raw.write(encodeFrame(Kind.EVENT, 10, 0, pack({ n: 'x' })));
    raw.write(encodeFrame(Kind.EVENT, 10, 0, pack({ n: 1 })));
    raw.write(encodeFrame(Kind.EVENT, 10, 0, Buffer.from([0xc1]))); // never-used msgpack byte
    raw.write(encodeFrame(Kind.EVENT, 10, 0, pack({ n: 2 })));
    await waitFor(() => got.length === 2, 'the valid events');
    expect(got).toEqual([1, 2]);
    const handle = s.server.peers().find((p) => p.context.name === 'raw-peer')!;
    expect(handle.stats().eventsInvalid).toBe(3);
    expect(handle.stats().eventsIn).toBe(2);
    expect(eventErrors.map((e) => e.code)).toEqual(['SCHEMA_VIOLATION', 'SCHEMA_VIOLATION', 'DECODE_ERROR']);
    expect(await s.metric('SCHEMA_VIOLATION')).toBe(2);
    expect(await s.metric('DECODE_ERROR')).toBe(1);
    // One line per kind of failure, not per event.
    expect(s.logger.lines).toHaveLength(2);
    expect(s.logger.matching(/SCHEMA|schema/)).toHaveLength(1);
    expect(s.logger.matching(/MessagePack/)).toHaveLength(1);
    expect(s.server.peers()).toHaveLength(2); // still connected
    // A call on the raw connection is still answered.
    raw.write(encodeFrame(Kind.REQUEST, 103, 77, pack({ a: 1, b: 1 })));
    const answer = await raw.frame((f) => f.id === 77, 'the answer');
    expect(answer.kind).toBe(Kind.RESPONSE);
    expect(await s.good.call('add', { a: 40, b: 2 })).toEqual({ sum: 42 });
  });

  it('a REQUEST with call id 0 is a protocol error (its answer could match no call)', async () => {
    const s = await setup(transport);
    const raw = await handshaken(s.url, s.server);
    raw.write(encodeFrame(Kind.REQUEST, s.server.registry.method('add').id, 0, pack({ a: 1, b: 2 })));
    const { err } = await s.peerClosed;
    expect(err.code).toBe('PROTOCOL_ERROR');
    expect(err.message).toMatch(/call id 0/);
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
    expect(s.logger.lines).toHaveLength(1);
    await s.goodStillWorks();
  });

  it('a second HELLO after the handshake is a protocol error', async () => {
    const s = await setup(transport);
    const raw = await handshaken(s.url, s.server);
    raw.write(helloFrame());
    expect((await s.peerClosed).err.code).toBe('PROTOCOL_ERROR');
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
    expect(s.logger.lines).toHaveLength(1);
    await s.goodStillWorks();
  });

  it('a bad kind / bad flags after HELLO', async () => {
    const s = await setup(transport);
    const raw = await handshaken(s.url, s.server);
    const f = encodeFrame(Kind.EVENT, 10, 0, pack({ n: 1 }));
    f[7] = 0x01; // DEADLINE on an EVENT
    raw.write(f);
    expect((await s.peerClosed).err.code).toBe('BAD_FLAGS');
    expect(await s.metric('BAD_FLAGS')).toBe(1);
    expect(s.logger.lines).toHaveLength(1);
    await s.goodStillWorks();
  });

  it('frames sent after a fatal error in the same chunk are not processed', async () => {
    const s = await setup(transport);
    const got: number[] = [];
    s.server.on('seq', (v) => void got.push(v.n));
    const raw = await rawConnect(s.url);
    // A HELLO of another protocol version, then (in the same write) an event.
    raw.write(Buffer.concat([helloFrame(undefined, { version: 9 }), encodeFrame(Kind.EVENT, 10, 0, pack({ n: 5 }))]));
    expect((await s.peerError).code).toBe('HELLO_MISMATCH');
    await raw.ended;
    await s.goodStillWorks();
    expect(got).toEqual([]);
  });
});

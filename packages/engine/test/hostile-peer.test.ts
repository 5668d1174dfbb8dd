/**
 * A hostile peer, by hand on node:net: it floods answers it never reads, trickles a frame, spends
 * more than its budget, breaks the GOAWAY rules, and names itself with terminal escapes. Each
 * attack costs the server a bounded amount and ends with the code PROTOCOL.md names, while a
 * well-behaved client on the same server keeps working.
 */
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ControlType, FrameDecoder, Kind, encodeErrorPayload, encodeFrame, pack, type Frame } from '@vsock-rpc/wire';
import type { ServerEngine } from '../src/index.js';
import {
  TRANSPORTS,
  collectingLogger,
  connectClient,
  helloFrame,
  rawConnect,
  startServer as startBareServer,
  testRegistry,
  urlOf,
  useCleanup,
  waitFor,
  sleep,
  type RawPeer,
  type TestRegistry,
} from './helpers.js';

useCleanup();

/** A test server that answers `add`, the call the good client and the raw peers make. */
async function startServer(...args: Parameters<typeof startBareServer>): Promise<ServerEngine<TestRegistry>> {
  const server = (await startBareServer(...args)) as ServerEngine<TestRegistry>;
  server.handle('add', (r) => ({ sum: r.a + r.b }));
  return server;
}

const ADD_ID = testRegistry.method('add').id;
const MESSAGEEXP_ID = testRegistry.message('messageexp').id;

async function handshaken(url: string, server: ServerEngine<TestRegistry>): Promise<RawPeer> {
  const raw = await rawConnect(url);
  raw.write(helloFrame());
  await raw.frame((f) => f.type === ControlType.HELLO, 'the server HELLO');
  await waitFor(() => server.peers().some((p) => p.context.name === 'raw-peer'), 'the raw peer accepted');
  return raw;
}

function rawPeerHandle(server: ServerEngine<TestRegistry>) {
  const h = server.peers().find((p) => p.context.name === 'raw-peer');
  if (!h) throw new Error('raw peer not connected');
  return h;
}

async function goodClientWorks(url: string): Promise<void> {
  const good = await connectClient(url, { name: 'good' });
  expect(await good.call('add', { a: 40, b: 2 }, { timeoutMs: 10_000 })).toEqual({ sum: 42 });
}

/** A socket that has done the handshake by hand and then reads only when told to. */
async function nonReadingPeer(url: string, server: ServerEngine<TestRegistry>) {
  const socket = url.startsWith('unix://') ? net.connect({ path: url.slice(7) }) : net.connect({ host: '127.0.0.1', port: Number(url.split(':').pop()) });
  socket.on('error', () => {});
  const frames: Frame[] = [];
  const decoder = new FrameDecoder((f) => frames.push(f), { maxFrame: 64 * 1024 * 1024 });
  await new Promise<void>((r) => socket.once('connect', r));
  socket.write(helloFrame());
  socket.on('data', (c: Buffer) => decoder.push(c));
  await waitFor(() => server.peers().some((p) => p.context.name === 'raw-peer'), 'the raw peer accepted');
  socket.pause(); // from here on it reads nothing
  return { socket, frames, startReading: () => socket.resume() };
}

describe.each(TRANSPORTS)('a hostile peer over %s', (transport) => {
  // Enough requests that their answers (≥ 8 MB) overflow the kernel's socket buffers, which on
  // loopback TCP grow to a few MB: only past them does anything pile up in the server.
  it.each([
    ['PING', () => encodeFrame(Kind.CONTROL, ControlType.PING, 7, Buffer.alloc(0)), ControlType.PONG, 700_000, 'unread'],
    ['CLOCK_REQUEST', () => encodeFrame(Kind.CONTROL, ControlType.CLOCK_REQUEST, 7, Buffer.alloc(8)), ControlType.CLOCK_RESPONSE, 300_000, 'unread'],
    // Each is refused with an ERROR frame (UNKNOWN_METHOD): refusals count as unread answers too.
    // They wait in the call lane, bounded by maxConcurrentCalls ('replies'), not in the socket.
    ['REQUEST for an unknown method', () => encodeFrame(Kind.REQUEST, 0xfe00, 7, pack({})), 0xfe00, 150_000, 'replies'],
  ])('a %s flood that never reads its answers: the server stops reading, then answers all once the peer reads', async (_name, frame, answer, count, reason) => {
    // Urgent answers (PONG, CLOCK_RESPONSE) are bounded by the unread bytes in the socket; a small
    // bound here reaches it with fewer frames. Call answers are bounded by the call lane.
    const server = await startServer(transport, reason === 'unread' ? { maxUnreadBytes: 64 * 1024 } : {});
    const url = urlOf(server);
    const peer = await nonReadingPeer(url, server);
    const one = frame();
    const burst = Buffer.concat(Array.from({ length: 1000 }, () => one));
    for (let i = 0; i < count / 1000; i++) peer.socket.write(burst);
    // Once its unread answers pass the bound, the server stops reading from this peer, and
    // what it has read stays below what was sent.
    await waitFor(() => rawPeerHandle(server).stats().readPaused.includes(reason), `the server to stop reading ('${reason}')`);
    expect(rawPeerHandle(server).stats().bytesIn).toBeLessThan(count * one.length);
    await goodClientWorks(url);
    // It was slowed, not dropped: once the peer reads, every request is answered.
    peer.startReading();
    await waitFor(() => peer.frames.filter((f) => f.type === answer).length === count, `all ${count} answers`, 60_000);
    peer.socket.destroy();
  });

  it('a frame trickled slower than its size allows is closed with FRAME_TIMEOUT', async () => {
    const logger = collectingLogger();
    const server = await startServer(transport, { logger, frameDeadline: { baseMs: 300, minBytesPerSecond: 1000 } });
    const url = urlOf(server);
    const raw = await handshaken(url, server);
    const frame = encodeFrame(Kind.EVENT, MESSAGEEXP_ID, 0, Buffer.alloc(1000, 0xc0));
    // 1012 bytes are allowed 300 + 1012 ms; one byte every 20 ms would take 20 s.
    let i = 0;
    const timer = setInterval(() => {
      if (i < frame.length && !raw.socket.destroyed) raw.write(frame.subarray(i, ++i));
    }, 20);
    try {
      expect(await raw.goaway()).toBe('FRAME_TIMEOUT');
    } finally {
      clearInterval(timer);
    }
    expect(i).toBeLessThan(frame.length);
    await waitFor(() => logger.matching(/FRAME_TIMEOUT|was not complete/).length > 0, 'the log line');
    expect(logger.matching(/1012-byte frame .* was not complete within 1312 ms/), logger.lines.join('\n')).toHaveLength(1);
    await goodClientWorks(url);
  });

  it('a frame that arrives slowly but within its allowance is accepted', async () => {
    const server = await startServer(transport, { frameDeadline: { baseMs: 2000, minBytesPerSecond: 1000 } });
    const url = urlOf(server);
    const raw = await handshaken(url, server);
    const got: string[] = [];
    server.on('messageexp', (ev) => void got.push(ev.str));
    const frame = encodeFrame(Kind.EVENT, MESSAGEEXP_ID, 0, pack({ timestamp: 1n, str: 'slow but steady' }));
    for (let i = 0; i < frame.length; i += 8) {
      raw.write(frame.subarray(i, i + 8));
      await sleep(10);
    }
    await waitFor(() => got.length === 1, 'the event');
    expect(got).toEqual(['slow but steady']);
    expect(raw.socket.destroyed).toBe(false);
  });

  it('a peer over its byte budget is slowed, then closed with RESOURCE_EXHAUSTED; others are untouched', async () => {
    const logger = collectingLogger();
    const server = await startServer(transport, { logger, budget: { bytesPerSecond: 50_000, burstSeconds: 0.2, closeAfterThrottledMs: 1500 } });
    const url = urlOf(server);
    const raw = await handshaken(url, server);
    const events = Buffer.concat(
      Array.from({ length: 200 }, (_, i) => encodeFrame(Kind.EVENT, MESSAGEEXP_ID, 0, pack({ timestamp: BigInt(i), str: 'x'.repeat(60) }))),
    );
    const timer = setInterval(() => {
      if (!raw.socket.destroyed) raw.write(events); // ~16 KB every 10 ms: 1.6 MB/s against 50 KB/s
    }, 10);
    try {
      expect(await raw.goaway()).toBe('RESOURCE_EXHAUSTED');
    } finally {
      clearInterval(timer);
    }
    expect(logger.matching(/over its bytes budget/)).toHaveLength(1);
    await goodClientWorks(url);
  });

  it('an undecodable GOAWAY payload is a protocol error', async () => {
    const server = await startServer(transport);
    const raw = await handshaken(urlOf(server), server);
    raw.write(encodeFrame(Kind.CONTROL, ControlType.GOAWAY, 0, Buffer.from([0xc1])));
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
  });

  it('RESPONSE and ERROR frames nobody waits for are ignored, whatever their type', async () => {
    const server = await startServer(transport);
    const raw = await handshaken(urlOf(server), server);
    raw.write(encodeFrame(Kind.RESPONSE, 0xfe00, 99, pack({ anything: 1 })));
    raw.write(encodeFrame(Kind.ERROR, 0xff04, 98, encodeErrorPayload({ code: 'X', message: 'y' })));
    raw.write(encodeFrame(Kind.RESPONSE, ADD_ID, 97, pack({ sum: 1 })));
    raw.write(encodeFrame(Kind.CONTROL, ControlType.PING, 5, Buffer.alloc(0)));
    await raw.frame((f) => f.type === ControlType.PONG && f.id === 5, 'the PONG after them');
    expect(raw.frames.some((f) => f.type === ControlType.GOAWAY)).toBe(false);
  });

  it('a REQUEST for a reserved id is answered UNKNOWN_METHOD and the connection goes on', async () => {
    const server = await startServer(transport);
    const raw = await handshaken(urlOf(server), server);
    raw.write(encodeFrame(Kind.REQUEST, 0xff00, 11, pack({})));
    const err = await raw.frame((f) => f.kind === Kind.ERROR && f.id === 11, 'the ERROR');
    expect(err.type).toBe(0xff00);
    raw.write(encodeFrame(Kind.REQUEST, ADD_ID, 12, pack({ a: 1, b: 2 })));
    await raw.frame((f) => f.kind === Kind.RESPONSE && f.id === 12, 'the answer to the next call');
    expect(raw.frames.some((f) => f.type === ControlType.GOAWAY)).toBe(false);
  });

  it.each([
    ['an EVENT', () => encodeFrame(Kind.EVENT, MESSAGEEXP_ID, 0, pack({ timestamp: 1n, str: 'late' }))],
    ['a REQUEST', () => encodeFrame(Kind.REQUEST, ADD_ID, 3, pack({ a: 1, b: 2 }))],
  ])('%s after the peer’s own GOAWAY is a protocol error', async (_what, frame) => {
    const server = await startServer(transport);
    const got: string[] = [];
    server.on('messageexp', (ev) => void got.push(ev.str));
    const raw = await handshaken(urlOf(server), server);
    raw.write(Buffer.concat([encodeFrame(Kind.CONTROL, ControlType.GOAWAY, 0, encodeErrorPayload({ code: 'SHUTDOWN', message: 'bye' })), frame()]));
    expect(await raw.goaway()).toBe('PROTOCOL_ERROR');
    expect(got).toEqual([]);
  });

  it('a graceful close sends every queued event before its GOAWAY', async () => {
    const server = await startServer(transport);
    const url = urlOf(server);
    let got = 0;
    const errors: Error[] = [];
    server.on('messageexp', () => void got++);
    server.on('peerClosed', (_ctx, err?: Error) => void (err && errors.push(err)));
    const client = await connectClient(url, { name: 'closer' });
    for (let i = 0; i < 5000; i++) void client.send('messageexp', { timestamp: BigInt(i), str: 'bye soon' });
    await client.close(5000);
    await waitFor(() => got === 5000, 'all 5000 events');
    await waitFor(() => server.peers().length === 0, 'the peer gone');
    expect(errors).toEqual([]);
  });
});

describe('text a peer chose reaches the log escaped', () => {
  it('a HELLO name with a newline and ANSI escapes cannot forge a log line', async () => {
    const logger = collectingLogger();
    const server = await startServer('unix', { logger, idleTimeoutMs: 300, keepaliveMs: 100 });
    const raw = await rawConnect(urlOf(server));
    raw.write(helloFrame(testRegistry, { name: 'evil\n[vsock-rpc] connection 1 closed: all fine\u001b[2J\u001b]0;owned\u0007' }));
    await raw.frame((f) => f.type === ControlType.HELLO, 'the server HELLO');
    raw.socket.pause(); // and says nothing more: the idle timeout logs its name
    await waitFor(() => logger.lines.some((l) => l.includes('IDLE') || l.includes('nothing heard')), 'the idle line');
    for (const line of logger.lines) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(logger.lines.join('\n')).toContain('evil\\n[vsock-rpc] connection 1 closed: all fine\\e[2J\\e]0;owned\\x07');
  });
});

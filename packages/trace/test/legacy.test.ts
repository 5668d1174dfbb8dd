import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import {
  encodeClockReplyFrame,
  encodeClockRequestFrame,
  encodeLegacyFrame,
  encodeMessageexp,
  encodeMessageexpFrame,
  LegacyFrameReader,
} from '@vsock-rpc/legacy';
import { createCollector, createTraceAgent, LegacyClient, LegacyServer, type LegacyCollector, type LegacyPeer, type TraceEvent } from '../src/index.js';

const sockPath = () => join(mkdtempSync(join(tmpdir(), 'legacy-')), 's.sock');
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function rawClient(path: string): Promise<net.Socket> {
  const s = net.connect(path);
  await once(s, 'connect');
  cleanup.push(async () => s.destroy());
  return s;
}

function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (cond()) {
        clearInterval(t);
        resolve();
      }
    }, 5);
  });
}

describe('legacy wire: collector and agent', () => {
  it('a legacy agent syncs, sends inline and header+body frames, and they merge with host events', async () => {
    const path = sockPath();
    const released: TraceEvent[] = [];
    const collector: LegacyCollector = await createCollector({
      wire: 'legacy',
      listen: `unix://${path}`,
      latenessNs: 50_000_000n,
      onEvents: (e) => released.push(...e),
    });
    cleanup.push(() => collector.close());
    const agent = await createTraceAgent({ wire: 'legacy', connect: `unix://${path}`, name: 'g' });
    expect(agent.stats().clock).toBeDefined();
    expect(agent.emit({ text: 'HI' })).toBe(true);
    expect(agent.emit({ text: 'HELLO' })).toBe(true);
    expect(agent.emit({ text: 'Z'.repeat(65) })).toBe(true);
    expect(agent.emit({ text: 'Z'.repeat(66) })).toBe(false); // beyond the wire's 65 bytes
    expect(agent.emit({ text: '' })).toBe(false);
    const now = collector.server.now();
    collector.addLocal([{ source: 'host', seq: 0, ts: now, origTs: now, errorBoundNs: 0n, kind: 'message', text: 'LOCAL' }]);
    await agent.flush();
    await until(() => released.filter((e) => e.source !== 'host').length === 3);
    const remote = released.filter((e) => e.source !== 'host');
    expect(remote.map((e) => e.text)).toEqual(['HI', 'HELLO', 'Z'.repeat(65)]);
    expect(remote.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(remote[0]!.source).toMatch(/^legacy#\d+$/);
    const st = agent.stats();
    expect(st).toMatchObject({ emitted: 5, sent: 3, invalid: 2, dropped: 2, clockSyncs: 1 });
    const peer = collector.server.peers()[0]!;
    expect(peer.clock.exchanges).toBe(1);
    expect(peer.clock.correctionErrorBoundNs).toBeDefined();
    await agent.close();
    await until(() => collector.stats().connections === 0);
    expect(collector.stats().legacy.closed).toMatchObject({ normal: 1 });
  });

  it('three raw legacy clients at once: every message arrives, each its own source; clock requests answered', async () => {
    const path = sockPath();
    const server = await LegacyServer.listen({ listen: `unix://${path}` });
    cleanup.push(() => server.close());
    const got = new Map<string, string[]>();
    server.on('messages', (p: LegacyPeer, msgs) => got.set(p.source, [...(got.get(p.source) ?? []), ...msgs.map((m) => m.text)]));
    const clients = await Promise.all([0, 1, 2].map(() => rawClient(path)));
    const replies = clients.map((c) => {
      const r = new LegacyFrameReader();
      const out: unknown[] = [];
      c.on('data', (d: Buffer) => out.push(...r.push(d)));
      return out;
    });
    clients.forEach((c, i) => {
      // One byte at a time for the first, as a stream may deliver it.
      const bytes = Buffer.concat([
        encodeMessageexpFrame({ timestamp: 1n, text: `C${i}A` }),
        encodeClockRequestFrame(),
        encodeMessageexpFrame({ timestamp: 2n, text: `CLIENT${i}B` }),
      ]);
      if (i === 0) for (const b of bytes) c.write(Buffer.of(b));
      else c.write(bytes);
    });
    await until(() => [...got.values()].flat().length === 6 && replies.every((r) => r.length === 1));
    expect([...got.values()].map((v) => v.join(',')).sort()).toEqual(['C0A,CLIENT0B', 'C1A,CLIENT1B', 'C2A,CLIENT2B']);
    expect(replies.map((r) => (r[0] as { type: number }).type)).toEqual([3, 3, 3]);
    expect(server.stats()).toMatchObject({ connections: 3, messages: 6, clockReplies: 3 });
  });
});

describe('legacy wire: a hostile peer is closed alone', () => {
  const bad: [string, () => Buffer][] = [
    ['LEGACY_BAD_TYPE', () => encodeLegacyFrame(3, Buffer.alloc(16)).fill(7, 0, 1)],
    [
      'LEGACY_BAD_LENGTH',
      () => {
        const b = Buffer.alloc(28);
        b.writeInt32LE(4, 0);
        b.writeInt32LE(0x7fffffff, 4);
        return b;
      },
    ],
    [
      'LEGACY_BAD_STRING',
      () => {
        const p = encodeMessageexp({ timestamp: 1n, text: 'ABCDEF' });
        p.writeBigUInt64LE(60n, 8);
        return encodeLegacyFrame(4, p);
      },
    ],
    [
      'LEGACY_BAD_LENGTH', // a zero-length string: len 16
      () => encodeLegacyFrame(4, encodeMessageexp({ timestamp: 1n, text: '' }, { relaxed: true })),
    ],
    ['LEGACY_TRUNCATED', () => encodeMessageexpFrame({ timestamp: 1n, text: 'HELLO' }).subarray(0, 30)],
  ];

  for (const [code, frame] of bad) {
    it(`${code}: closes only that peer, with a log line and a metric`, async () => {
      const path = sockPath();
      const warnings: string[] = [];
      const prom = new Registry();
      const server = await LegacyServer.listen({ listen: `unix://${path}`, logger: { warn: (m) => warnings.push(m) }, promRegistry: prom });
      cleanup.push(() => server.close());
      const closed: (string | undefined)[] = [];
      server.on('peerClosed', (_p, c) => closed.push(c));
      let goodCount = 0;
      server.on('messages', (_p, m) => (goodCount += m.length));
      const good = await rawClient(path);
      const evil = await rawClient(path);
      await until(() => server.stats().connections === 2);
      evil.write(frame());
      if (code === 'LEGACY_TRUNCATED') evil.end();
      await until(() => closed.length === 1);
      expect(closed).toEqual([code]);
      good.write(encodeMessageexpFrame({ timestamp: 1n, text: 'STILL' }));
      await until(() => goodCount === 1);
      expect(server.stats().connections).toBe(1);
      expect(warnings.some((w) => w.includes(code))).toBe(true);
      const metric = (await prom.getMetricsAsJSON()).find((m) => m.name === 'vsockrpc_legacy_peer_errors_total');
      expect(metric?.values).toContainEqual(expect.objectContaining({ labels: { code }, value: 1 }));
    });
  }

  it('idle and frame deadlines still apply without a handshake', async () => {
    const path = sockPath();
    const server = await LegacyServer.listen({ listen: `unix://${path}`, idleTimeoutMs: 150, frameTimeoutMs: 100 });
    cleanup.push(() => server.close());
    const closed: (string | undefined)[] = [];
    server.on('peerClosed', (_p, c) => closed.push(c));
    await rawClient(path); // says nothing
    const slow = await rawClient(path);
    slow.write(encodeMessageexpFrame({ timestamp: 1n, text: 'HELLO' }).subarray(0, 10)); // starts a frame, never ends it
    await until(() => closed.length === 2);
    expect(closed.sort()).toEqual(['LEGACY_FRAME_TIMEOUT', 'LEGACY_IDLE_TIMEOUT']);
  });

  it('the connection cap closes a newcomer unread', async () => {
    const path = sockPath();
    const server = await LegacyServer.listen({ listen: `unix://${path}`, maxConnections: 2 });
    cleanup.push(() => server.close());
    await rawClient(path);
    await rawClient(path);
    await until(() => server.stats().connections === 2);
    const third = await rawClient(path);
    await once(third, 'close');
    expect(server.stats()).toMatchObject({ connections: 2, rejected: 1, closed: { CONNECTION_LIMIT: 1 } });
  });

  it('a client fails on a frame it did not ask for (the original would take it as a clock reply)', async () => {
    const path = sockPath();
    const srv = net.createServer((s) => s.write(encodeClockReplyFrame({ recvtime: 1n, sendtime: 2n })));
    srv.listen(path);
    await once(srv, 'listening');
    cleanup.push(() => new Promise((r) => srv.close(r)));
    const c = await LegacyClient.connect(`unix://${path}`);
    await until(() => !c.connected);
    expect(c.error).toMatchObject({ code: 'LEGACY_UNEXPECTED_FRAME' });
    await c.close();
  });
});

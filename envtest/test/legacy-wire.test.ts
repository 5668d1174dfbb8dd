/**
 * `--wire legacy` end to end over a unix socket: our legacy client against our legacy server,
 * and raw legacy frames (what the C++ client sends, inline and header + body, with garbage in
 * the unused header bytes as it leaves them) from three connections at once. The QEMU tier
 * (test/vm/legacy.vm.test.ts) does the same against a C++ peer over real vsock.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeClockRequestFrame, encodeMessageexpFrame, LegacyFrameReader } from '@vsock-rpc/legacy';
import { requireBuilt, run, start, until } from './helpers.js';

requireBuilt();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envtest-legacy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface JsonlEvent {
  source: string;
  ts: string;
  text?: string;
}

/** Frames as the C++ client writes them: its unused header bytes hold whatever was on its stack. */
function withGarbage(frame: Buffer): Buffer {
  const f = Buffer.from(frame);
  const len = f.readInt32LE(4);
  f.fill(0xa5, len <= 20 ? 8 + len : 8, 28);
  return f;
}

describe('envtest --wire legacy', () => {
  it('rejects an unknown wire with a usage error', async () => {
    const r = await run(['server', '--wire', 'grpc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--wire must be native or legacy');
  });

  it('server: three legacy connections at once and our legacy client, merged with host events; clock requests answered', async () => {
    const sock = join(dir, 'l.sock');
    const summaryPath = join(dir, 'summary.json');
    const exportPath = join(dir, 'events.jsonl');
    const server = start([
      'server',
      '--wire',
      'legacy',
      '--listen',
      `unix://${sock}`,
      '--rate',
      '50',
      '--lateness-ms',
      '200',
      '--startup-hold-ms',
      '0',
      '--summary',
      summaryPath,
      '--export',
      exportPath,
    ]);
    await until(() => server.stderr().includes('listening on'), 15_000, 'server listening');

    // Three raw legacy peers at once, each: 10 messages with a clock request after the 5th.
    const texts = (i: number) => Array.from({ length: 10 }, (_, k) => (k % 3 === 0 ? `I${i}${k}` : `PEER${i}MESSAGE${k}`));
    const peers = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const s = net.connect(sock);
        await once(s, 'connect');
        const reader = new LegacyFrameReader();
        const replies: { type: number }[] = [];
        s.on('data', (d: Buffer) => replies.push(...reader.push(d)));
        return { s, replies, i };
      }),
    );
    const now = process.hrtime.bigint();
    for (const { s, i } of peers) {
      texts(i).forEach((text, k) => {
        s.write(withGarbage(encodeMessageexpFrame({ timestamp: now + BigInt(k * 1000), text })));
        if (k === 4) s.write(withGarbage(encodeClockRequestFrame()));
      });
    }
    await until(() => peers.every((p) => p.replies.length === 1), 10_000, 'clock replies');
    expect(peers.map((p) => p.replies[0]!.type)).toEqual([3, 3, 3]);

    const client = await run(['client', '--wire', 'legacy', '--connect', `unix://${sock}`, '--count', '40', '--rate', '400', '--name', 'ours']);
    expect(client.code).toBe(0);
    for (const p of peers) p.s.end();
    await new Promise((r) => setTimeout(r, 300));
    server.child.kill('SIGINT');
    expect(await server.done).toBe(0);

    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as {
      events: { bySource: Record<string, number> };
      details: {
        wire: string;
        legacy: Record<string, { messages: number; clockExchanges: number; correctionAgeMs?: number; correctionErrorBoundNs?: string }>;
      };
      late: number;
    };
    const legacySources = Object.keys(summary.events.bySource).filter((s) => s.startsWith('legacy#'));
    expect(legacySources).toHaveLength(4);
    expect(legacySources.map((s) => summary.events.bySource[s]).sort((a, b) => a! - b!)).toEqual([10, 10, 10, 40]);
    expect(summary.events.bySource['host']).toBeGreaterThan(0);
    expect(summary.details.wire).toBe('legacy');
    const perSource = Object.values(summary.details.legacy);
    expect(perSource).toHaveLength(4);
    expect(perSource.every((s) => s.clockExchanges >= 1 && s.correctionAgeMs !== undefined)).toBe(true);
    // Our client sent its events after reading the reply: the server could time that round trip.
    // (The raw peers wrote everything at once, before any reply: nothing to time there.)
    expect(perSource.find((s) => s.messages === 40)?.correctionErrorBoundNs).toMatch(/^\d+$/);

    const events = (await readFile(exportPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JsonlEvent);
    const fromPeers = events.filter((e) => e.source.startsWith('legacy#') && summary.events.bySource[e.source] === 10);
    expect(fromPeers.map((e) => e.text).sort()).toEqual([0, 1, 2].flatMap(texts).sort());
    const client40 = events.filter((e) => summary.events.bySource[e.source] === 40);
    expect(client40.every((e) => /^[A-Z]{1,65}$/.test(e.text ?? ''))).toBe(true);
  }, 60_000);
});

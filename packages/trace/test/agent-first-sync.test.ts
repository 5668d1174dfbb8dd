/**
 * The agent's first clock sync on a starved guest: one exchange may miss its own short deadline
 * (clockExchangeTimeoutMs, 1 s), but the first sync has the whole clockTimeoutMs (10 s) and
 * retries lost exchanges within it, instead of failing the connect at the first lost answer.
 */
import * as net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddress } from '@vsock-rpc/engine';
import { ControlType, Flags, FrameDecoder, Kind, encodeFrame } from '@vsock-rpc/wire';
import { createCollector, createTraceAgent } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trace-first-sync-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the first clock sync', () => {
  it('survives a first burst whose every exchange is lost: the agent retries, connects and syncs', async () => {
    const collector = await createCollector({ listen: `unix://${join(dir, 'c.sock')}`, logger: null });
    const target = formatAddress(collector.server.address).slice('unix://'.length);
    let dropped = 0;
    // A proxy that loses every CLOCK_REQUEST of the agent's first 1.5 s (a whole first burst,
    // past one exchange's 1 s deadline) and passes every other frame on.
    const proxy = net.createServer((agentSide) => {
      const since = performance.now();
      const collectorSide = net.connect(target);
      collectorSide.pipe(agentSide);
      agentSide.on('error', () => collectorSide.destroy());
      collectorSide.on('error', () => agentSide.destroy());
      const dec = new FrameDecoder(
        (f) => {
          if (performance.now() - since < 1500 && f.kind === Kind.CONTROL && f.type === ControlType.CLOCK_REQUEST) {
            dropped++;
            return;
          }
          collectorSide.write(encodeFrame(f.kind, f.type, f.id, Buffer.from(f.payload), f.deadlineMs, f.flags & ~Flags.DEADLINE));
        },
        { streams: true, maxFrame: 64 * 1024 * 1024 },
      );
      agentSide.on('data', (d: Buffer) => dec.push(d));
    });
    const proxyPath = join(dir, 'proxy.sock');
    await new Promise<void>((r) => proxy.listen(proxyPath, r));
    try {
      const agent = await createTraceAgent({ connect: `unix://${proxyPath}`, name: 'starved', logger: null });
      expect(dropped).toBeGreaterThanOrEqual(1);
      expect(agent.stats().clock).toBeDefined();
      await agent.close();
    } finally {
      proxy.close();
      await collector.close();
    }
  }, 30_000);
});

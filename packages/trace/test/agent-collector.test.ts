import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEngine, formatAddress } from '@vsock-rpc/engine';
import { createCollector, createTraceAgent, traceRegistry, TraceTypeIds, type Collector, type TraceAgent, type TraceEvent } from '../src/index.js';

let dir: string;
let n = 0;
const addr = () => `unix://${join(dir, `c${n++}.sock`)}`;
const quiet = { logger: null } as const;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trace-agent-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectOrdered(events: readonly TraceEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.ts < events[i - 1]!.ts) throw new Error(`out of order at ${i}: ${events[i - 1]!.ts} then ${events[i]!.ts}`);
  }
}

/** Resolve when `cond` holds (polling), or fail after `ms`. */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('registry', () => {
  it('declares the trace messages in the 0x7000 range', () => {
    expect(traceRegistry.message('traceBatch').id).toBe(TraceTypeIds.traceBatch);
    for (const s of traceRegistry.summary) expect(s.id >> 8).toBe(0x70);
  });
});

describe('agents → collector over unix sockets', () => {
  it('merges 3 agents and host events in ts order, losing nothing', async () => {
    const out: TraceEvent[] = [];
    const collector = await createCollector({ listen: addr(), ...quiet, onEvents: (e) => out.push(...e) });
    const listen = formatAddress(collector.server.address);
    const agents = await Promise.all(['g1', 'g2', 'g3'].map((name) => createTraceAgent({ connect: listen, name, ...quiet })));
    const per = 400;
    let hostSeq = 0;
    for (let round = 0; round < 8; round++) {
      for (const a of agents) for (let i = 0; i < per / 8; i++) a.emit({ text: `${a.name}-${round}-${i}` });
      const ts = process.hrtime.bigint();
      collector.addLocal([{ source: 'host', seq: hostSeq++, ts, origTs: ts, errorBoundNs: 0n, kind: 'message', text: 'H' }], ts);
      await sleep(15);
    }
    collector.removeLocal('host');
    await Promise.all(agents.map((a) => a.flush()));
    expect(agents.map((a) => a.stats().sent)).toEqual([per, per, per]);
    await until(() => collector.stats().received === 3 * per + hostSeq);
    await Promise.all(agents.map((a) => a.close()));
    await collector.close();

    expect(out.length).toBe(3 * per + hostSeq);
    expectOrdered(out);
    for (const name of ['g1', 'g2', 'g3']) {
      const seqs = out.filter((e) => e.source === name).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: per }, (_, i) => i));
    }
    const st = collector.stats();
    expect(st.late).toBe(0);
    expect(st.dropped).toBe(0);
    expect(st.bySource['g2']).toMatchObject({ events: per, late: 0, seqGaps: 0, active: false });
    expect(st.bySource['g1']!.agent).toMatchObject({ source: 'g1', emitted: per, sent: per, dropped: 0 });
  });

  it('converts a skewed guest clock (clockSkewNs = 5 s) into the host domain', async () => {
    const out: TraceEvent[] = [];
    const collector = await createCollector({ listen: addr(), ...quiet, onEvents: (e) => out.push(...e) });
    const listen = formatAddress(collector.server.address);
    const skew = 5_000_000_000n;
    const agent = await createTraceAgent({ connect: listen, name: 'skewed', clockSkewNs: skew, ...quiet });
    const hostTimes: bigint[] = [];
    for (let i = 0; i < 20; i++) {
      hostTimes.push(process.hrtime.bigint());
      agent.emit({ text: `e${i}` });
      await sleep(5);
    }
    await agent.close();
    await until(() => out.length === 20);
    await collector.close();
    const clock = agent.stats().clock!;
    // offset = guest − host ≈ +5 s, known to within its error bound.
    expect(Number(clock.offsetNs - skew)).toBeLessThan(Number(clock.errorBoundNs) + 1_000_000);
    for (let i = 0; i < 20; i++) {
      const e = out[i]!;
      expect(e.origTs - e.ts).toBeGreaterThan(skew - 2_000_000n);
      expect(e.origTs - e.ts).toBeLessThan(skew + 2_000_000n);
      // The converted ts is the host's time of the emit, within a few ms.
      const d = Number(e.ts - hostTimes[i]!);
      expect(Math.abs(d)).toBeLessThan(3_000_000);
      expect(e.errorBoundNs).toBeGreaterThanOrEqual(0n);
    }
  });

  it('heartbeats of an idle agent let the others through long before the lateness bound', async () => {
    const out: TraceEvent[] = [];
    const collector = await createCollector({ listen: addr(), ...quiet, latenessNs: 30_000_000_000n, onEvents: (e) => out.push(...e) });
    const listen = formatAddress(collector.server.address);
    const idle = await createTraceAgent({ connect: listen, name: 'idle', heartbeatMs: 20, ...quiet });
    const busy = await createTraceAgent({ connect: listen, name: 'busy', ...quiet });
    busy.emit({ text: 'x' });
    await until(() => out.length === 1, 3000);
    expect(idle.stats().heartbeats).toBeGreaterThan(0);
    await Promise.all([idle.close(), busy.close()]);
    await collector.close();
  });

  it('counts late events and hands them to onLate', async () => {
    const out: TraceEvent[] = [];
    const late: TraceEvent[] = [];
    const collector = await createCollector({
      listen: addr(),
      ...quiet,
      latenessNs: 20_000_000n,
      onEvents: (e) => out.push(...e),
      onLate: (e) => late.push(e),
    });
    const listen = formatAddress(collector.server.address);
    // A raw client: same machine, same clock, ts written by hand.
    const raw = await ClientEngine.connect(listen, { registry: traceRegistry, name: 'raw', clock: false, ...quiet });
    const now = process.hrtime.bigint();
    const e = (seq: number, ts: bigint) => ({ seq, ts, origTs: ts, errorBoundNs: 0n, kind: 'message' });
    void raw.send('traceBatch', { source: 'raw', events: [e(0, now)], watermark: now });
    await until(() => out.length === 1);
    void raw.send('traceBatch', { source: 'spoofed', events: [e(1, now - 1_000_000_000n)] });
    await until(() => late.length === 1);
    await raw.close();
    await collector.close();
    expect(late[0]).toMatchObject({ source: 'raw', seq: 1 }); // the verified name, not the claimed one
    expect(collector.stats().late).toBe(1);
    expect(collector.stats().bySource['raw']!.late).toBe(1);
  });

  it('drops and counts when the agent buffer is full; emit never blocks', async () => {
    const collector = await createCollector({ listen: addr(), ...quiet });
    const listen = formatAddress(collector.server.address);
    const agent: TraceAgent = await createTraceAgent({ connect: listen, name: 'tiny', maxBuffered: 10, maxBatch: 1000, ...quiet });
    let accepted = 0;
    for (let i = 0; i < 100; i++) if (agent.emit({ text: 'x' })) accepted++;
    expect(accepted).toBe(10);
    expect(agent.stats()).toMatchObject({ emitted: 100, dropped: 90 });
    await agent.close();
    await until(() => collector.stats().received === 10);
    await collector.close();
  });

  it('yields merged events through the async iterator and ends on close', async () => {
    const collector: Collector = await createCollector({ listen: addr(), ...quiet });
    const listen = formatAddress(collector.server.address);
    const seen: TraceEvent[] = [];
    const reading = (async () => {
      for await (const e of collector) seen.push(e);
    })();
    const agent = await createTraceAgent({ connect: listen, name: 'it', ...quiet });
    for (let i = 0; i < 50; i++) agent.emit({ text: String(i), fields: { i } });
    await agent.close();
    await until(() => collector.stats().received === 50);
    await collector.close();
    await reading;
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(seen[7]!.fields).toEqual({ i: 7 });
  });
});

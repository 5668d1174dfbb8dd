/**
 * Delivery without silent loss (issue 11): the collector acknowledges by seq, the agent keeps
 * and resends what was not acknowledged, the collector drops duplicates.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerEngine } from '@vsock-rpc/engine';
import { MAX_FIELDS, MAX_TEXT_LENGTH, createCollector, createTraceAgent, traceRegistry, TraceTypeIds, type TraceEvent } from '../src/index.js';

let dir: string;
const quiet = { logger: null } as const;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trace-delivery-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('traceAck', () => {
  it('is a trace message in the 0x70xx range', () => {
    expect(traceRegistry.message('traceAck').id).toBe(TraceTypeIds.traceAck);
    expect(TraceTypeIds.traceAck >> 8).toBe(0x70);
  });
});

describe('agent ↔ collector delivery', () => {
  it('acknowledges everything: emitted = acknowledged, nothing unconfirmed', async () => {
    const listen = `unix://${join(dir, 'a.sock')}`;
    const collector = await createCollector({ listen, ...quiet });
    const agent = await createTraceAgent({ connect: listen, name: 'g', ...quiet });
    for (let i = 0; i < 500; i++) agent.emit({ text: String(i) });
    await agent.close();
    expect(agent.stats()).toMatchObject({ emitted: 500, acknowledged: 500, dropped: 0, unconfirmed: 0, buffered: 0 });
    await collector.close();
    expect(collector.stats().bySource['g']).toMatchObject({ events: 500, acked: 499, duplicates: 0 });
  });

  it('an event over the schema bounds is refused at emit and counted; the rest of its batch arrives', async () => {
    const listen = `unix://${join(dir, 'bounds.sock')}`;
    const collector = await createCollector({ listen, ...quiet });
    const agent = await createTraceAgent({ connect: listen, name: 'b', ...quiet });
    const fields = Object.fromEntries(Array.from({ length: MAX_FIELDS + 1 }, (_, i) => [`f${i}`, i]));
    expect(agent.emit({ text: 'ok 1' })).toBe(true);
    expect(agent.emit({ text: 'x'.repeat(MAX_TEXT_LENGTH + 1) })).toBe(false);
    expect(agent.emit({ kind: 'k'.repeat(257) })).toBe(false);
    expect(agent.emit({ fields })).toBe(false);
    expect(agent.emit({ fields: { long: 'y'.repeat(MAX_TEXT_LENGTH + 1) } })).toBe(false);
    expect(agent.emit({ text: 'ok 2', fields: { n: 1 } })).toBe(true);
    await agent.close();
    expect(agent.stats()).toMatchObject({ emitted: 6, acknowledged: 2, dropped: 4, invalid: 4, unconfirmed: 0 });
    await collector.close();
    expect(collector.stats().bySource['b']).toMatchObject({ events: 2 });
  });

  it('batches are cut by size as well as count, so large events stay under a small maxFrame', async () => {
    const listen = `unix://${join(dir, 'bytes.sock')}`;
    const collector = await createCollector({ listen, maxFrame: 64 * 1024, ...quiet });
    const agent = await createTraceAgent({ connect: listen, name: 'big', maxBatchBytes: 32 * 1024, ...quiet });
    for (let i = 0; i < 100; i++) expect(agent.emit({ text: String(i % 10).repeat(MAX_TEXT_LENGTH) })).toBe(true);
    await agent.close();
    // ~12 KiB each by the estimate: at most 2 per 32 KiB batch, and every one arrives.
    expect(agent.stats()).toMatchObject({ emitted: 100, acknowledged: 100, dropped: 0, unconfirmed: 0 });
    expect(agent.stats().batches).toBeGreaterThanOrEqual(50);
    await collector.close();
    expect(collector.stats().bySource['big']).toMatchObject({ events: 100 });
  });

  it('a collector restarted mid-stream gets every event once, across both runs; the agent resends what was not acked', async () => {
    const path = join(dir, 'r.sock');
    const listen = `unix://${path}`;
    const got: TraceEvent[][] = [[], []];
    // The first collector never acknowledges (its ack timer is far away): everything it got
    // is resent to the second one, which must merge each event once.
    const first = await createCollector({ listen, ...quiet, ackIntervalMs: 3_600_000, onEvents: (e) => got[0]!.push(...e) });
    const agent = await createTraceAgent({ connect: listen, name: 'g', reconnect: { initialDelayMs: 20, maxDelayMs: 100 }, ...quiet });
    for (let i = 0; i < 300; i++) agent.emit({ text: String(i) });
    await until(() => first.stats().received === 300);
    expect(agent.stats()).toMatchObject({ acknowledged: 0, unacked: 300, buffered: 300 });
    await first.close(0);
    await until(() => !agent.engine.connected);
    for (let i = 300; i < 400; i++) agent.emit({ text: String(i) }); // while the collector is down
    const second = await createCollector({ listen, ...quiet, onEvents: (e) => got[1]!.push(...e) });
    await until(() => agent.stats().acknowledged === 400);
    await agent.close();
    expect(agent.stats()).toMatchObject({ emitted: 400, acknowledged: 400, dropped: 0, unconfirmed: 0 });
    expect(agent.stats().resent).toBeGreaterThanOrEqual(300);
    await second.close();
    expect(got[1]!.map((e) => e.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    expect(second.stats().bySource['g']).toMatchObject({ events: 400, duplicates: 0, seqGaps: 0 });
  });

  it('the same collector drops the duplicates of a resend after a reconnect', async () => {
    const listen = `unix://${join(dir, 'd.sock')}`;
    const got: TraceEvent[] = [];
    const collector = await createCollector({ listen, ...quiet, ackIntervalMs: 3_600_000, onEvents: (e) => got.push(...e) });
    const agent = await createTraceAgent({ connect: listen, name: 'g', reconnect: { initialDelayMs: 20, maxDelayMs: 100 }, ...quiet });
    for (let i = 0; i < 100; i++) agent.emit({ text: String(i) });
    await until(() => collector.stats().received === 100);
    // Cut the connection from the host side: the agent reconnects and resends all 100.
    await collector.server.peers()[0]!.close(0);
    await until(() => collector.stats().duplicates === 100);
    expect(collector.stats().bySource['g']).toMatchObject({ events: 100, duplicates: 100, seqGaps: 0 });
    expect(got.length).toBe(100);
    await agent.close(200); // no acks: the close gives up and says so
    expect(agent.stats()).toMatchObject({ emitted: 100, acknowledged: 0, dropped: 0, unconfirmed: 100, buffered: 0 });
    await collector.close();
  });

  it('counts unacknowledged events against the buffer bound', async () => {
    const listen = `unix://${join(dir, 'b.sock')}`;
    // A host that never acks (a bare server speaking the registry).
    const server = await ServerEngine.listen(listen, { registry: traceRegistry, ...quiet });
    let received = 0;
    server.on('traceBatch', (b) => void (received += b.events.length));
    const agent = await createTraceAgent({ connect: listen, name: 'g', maxBuffered: 50, ...quiet });
    for (let i = 0; i < 50; i++) agent.emit({});
    await until(() => received === 50);
    expect(agent.emit({})).toBe(false); // 50 sent, unacknowledged: full
    await agent.close(100);
    expect(agent.stats()).toMatchObject({ emitted: 51, acknowledged: 0, dropped: 1, unconfirmed: 50 });
    await server.close(0);
  });
});

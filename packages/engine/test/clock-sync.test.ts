/**
 * Clock sync (src/clock-sync.ts): bursts, the periodic ClockSync with drift on a synthetic
 * peer, and end to end over a unix socket with a known skew (engines' clockSkewNs) in either
 * direction. The end-to-end bounds are functional checks (|error| < 5 ms), not performance
 * claims: the accuracy figures are the bench suite's `clock` workload's (npm run bench -- --only clock).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { Registry as PromRegistry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { exampleRegistry } from '@vsock-rpc/wire/examples';
import { ClockSync, syncClock, type SyncEvent, type SyncResult } from '../src/clock-sync.js';
import { ClientEngine } from '../src/client-engine.js';
import { EngineMetrics } from '../src/metrics.js';
import { ServerEngine, type PeerHandle } from '../src/server-engine.js';
import type { ClockSample } from '../src/connection.js';

const abs = (v: bigint): bigint => (v < 0n ? -v : v);
const SKEW = 5_000_000_000n;
const FIVE_MS = 5_000_000n;

/**
 * A simulated peer on a virtual timeline: our clock is `t`; the peer's is t − θ(t) with
 * θ(t) = θ₀ + ppm·10⁻⁶·(t − t₀). Each exchange advances `t` by the one-way times and the
 * turnaround; `delays` cycles through [d1, d2] pairs.
 */
function simulatedPeer(theta0: bigint, ppm: number, delays: Array<[bigint, bigint]>) {
  const t0 = 2n ** 62n;
  let t = t0;
  let i = 0;
  const theta = (at: bigint) => theta0 + BigInt(Math.round(Number(at - t0) * ppm * 1e-6));
  const exchange = async (): Promise<ClockSample> => {
    const [d1, d2] = delays[i++ % delays.length]!;
    const t1 = t;
    t += d1;
    const t1r = t - theta(t);
    t += 2_000n;
    const t2r = t - theta(t);
    t += d2;
    return { t1, t1r, t2r, t2: t };
  };
  return { exchange, now: () => t, advance: (ns: bigint) => void (t += ns), theta };
}

describe('syncClock', () => {
  it('keeps the minimum-delay exchange of a sequential burst', async () => {
    const peer = simulatedPeer(-SKEW, 0, [
      [300_000n, 20_000n],
      [40_000n, 900_000n],
      [5_000n, 7_000n],
      [80_000n, 80_000n],
    ]);
    let inFlight = 0;
    let maxInFlight = 0;
    const counted = async () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await peer.exchange();
      } finally {
        inFlight--;
      }
    };
    const r = await syncClock(counted, { samples: 4 });
    expect(maxInFlight).toBe(1);
    expect(r.samples).toBe(4);
    expect(r.delayNs).toBe(12_000n);
    expect(r.offsetNs - -SKEW).toBe(1_000n);
    expect(r.errorBoundNs).toBe(6_000n);
    expect(r.at).toBe((r.sample.t1 + r.sample.t2) / 2n);
  });

  it('adaptive: goes past `samples` until an exchange meets the target delay, up to maxSamples', async () => {
    const slow: [bigint, bigint] = [50_000n, 50_000n];
    const peer = simulatedPeer(-SKEW, 0, [slow, slow, slow, slow, slow, [6_000n, 6_000n], slow]);
    const r = await syncClock(peer.exchange, { samples: 2, maxSamples: 10, targetDelayNs: 20_000n });
    expect(r.samples).toBe(6);
    expect(r.delayNs).toBe(12_000n);
    // never more than maxSamples, even when the target is never met
    const capped = await syncClock(simulatedPeer(-SKEW, 0, [slow]).exchange, { samples: 2, maxSamples: 5, targetDelayNs: 1n });
    expect(capped.samples).toBe(5);
    // no target: a fixed-size burst
    expect((await syncClock(simulatedPeer(-SKEW, 0, [slow]).exchange, { samples: 3, maxSamples: 9 })).samples).toBe(3);
  });

  it('fails when an exchange fails', async () => {
    await expect(syncClock(() => Promise.reject(new Error('gone')), { samples: 3 })).rejects.toThrow('gone');
  });
});

describe('ClockSync', () => {
  it('estimates drift across syncs and converts within its error bound', async () => {
    const peer = simulatedPeer(-SKEW, 20, [
      [30_000n, 5_000n],
      [4_000n, 6_000n],
      [50_000n, 90_000n],
    ]);
    const prom = new PromRegistry();
    const metrics = new EngineMetrics(exampleRegistry, { promRegistry: prom });
    const clock = new ClockSync(peer.exchange, { now: peer.now, samples: 3, metrics, maxDriftPpm: 100 });
    const events: Array<SyncResult & { driftPpm: number }> = [];
    clock.on('sync', (e) => events.push(e));
    expect(clock.offset).toBeUndefined();
    expect(() => clock.toLocal(0n)).toThrow(/no clock sync/);

    await clock.sync();
    expect(clock.driftPpm).toBeUndefined();
    expect(abs(clock.offset! - peer.theta(peer.now()))).toBeLessThanOrEqual(clock.errorBound!);
    // before drift is known, the bound grows at maxDriftPpm: 1 s later, by 100 µs
    const bound0 = clock.errorBound!;
    peer.advance(1_000_000_000n);
    expect(clock.errorBound! - bound0).toBe(100_000n);

    for (let i = 0; i < 7; i++) {
      peer.advance(3_000_000_000n);
      await clock.sync();
    }
    expect(events).toHaveLength(8);
    expect(clock.driftPpm).toBeCloseTo(20, 1);
    expect(Math.abs(clock.driftPpm! - 20)).toBeLessThanOrEqual(clock.drift!.uncertaintyPpm);
    expect(clock.lastSync!.delayNs).toBe(10_000n);

    // 10 s after the last sync the drift has moved the offset by 200 µs; the model follows it
    peer.advance(10_000_000_000n);
    const now = peer.now();
    const truth = peer.theta(now);
    expect(abs(clock.offset! - truth)).toBeLessThanOrEqual(clock.errorBound!);
    const remote = clock.toRemote(now);
    expect(abs(remote.value - (now - truth))).toBeLessThanOrEqual(remote.errorBoundNs);
    const local = clock.toLocal(now - truth);
    expect(abs(local.value - now)).toBeLessThanOrEqual(local.errorBoundNs);
    expect(abs(clock.toLocal(remote.value).value - now)).toBeLessThanOrEqual(1n);

    const gauge = await prom.getSingleMetricAsString('vsockrpc_clock_offset_seconds');
    expect(gauge).toMatch(/vsockrpc_clock_offset_seconds -4\.99/);
    expect(await prom.getSingleMetricAsString('vsockrpc_clock_drift_ppm')).toMatch(/vsockrpc_clock_drift_ppm (19|20)\./);

    clock.close();
    await expect(clock.sync()).rejects.toMatchObject({ code: 'CLOCK_CLOSED' });
  });

  it('a looser sync does not replace a tighter anchor; a contradicting one does', async () => {
    // delays per exchange: the first burst (all 8 = 4 × samples) finds a 10 µs floor; later bursts see only 400 µs
    const tight: [bigint, bigint] = [5_000n, 5_000n];
    const loose: [bigint, bigint] = [100_000n, 300_000n]; // 100 µs of error, bound 200 µs
    const peer = simulatedPeer(-SKEW, 0, [tight, ...Array.from({ length: 20 }, () => loose)]);
    const clock = new ClockSync(peer.exchange, { now: peer.now, samples: 2, maxDriftPpm: 10 });
    const events: SyncEvent[] = [];
    clock.on('sync', (e: SyncEvent) => events.push(e));
    await clock.sync();
    expect(events[0]!.samples).toBe(8);
    expect(events[0]!.accepted).toBe(true);
    peer.advance(1_000_000_000n); // the model's bound grows by 10 µs per s: 15 µs < 200 µs
    await clock.sync();
    expect(events[1]!.samples).toBe(8); // adaptive: the burst went on, looking for the floor
    expect(events[1]!.accepted).toBe(false);
    expect(clock.model!.offsetNs).toBe(-SKEW);
    expect(clock.lastSync!.offsetNs).toBe(-SKEW + 100_000n);
    // the peer's clock steps by 1 s: the new sync contradicts the model and replaces it
    const steppedBy = 1_000_000_000n;
    const stepping = async () => {
      const s = await peer.exchange();
      return { ...s, t1r: s.t1r + steppedBy, t2r: s.t2r + steppedBy };
    };
    const clock2 = new ClockSync(async () => (events.length < 3 ? peer.exchange() : stepping()), { now: peer.now, samples: 2, maxDriftPpm: 10 });
    clock2.on('sync', (e: SyncEvent) => events.push(e));
    await clock2.sync(); // events[2]: anchor on the tight sample of this burst
    peer.advance(1_000_000_000n);
    await clock2.sync(); // events[3]: 1 s off, far outside both bounds
    expect(events[3]!.accepted).toBe(true);
    expect(clock2.model!.offsetNs).toBe(-SKEW - steppedBy + 100_000n);
    expect(clock2.drift).toBeUndefined(); // the history before the step was dropped
  });

  it('resyncs periodically until stopped; reset() forgets the drift history', async () => {
    let n = 0;
    const exchange = async (): Promise<ClockSample> => {
      n++;
      const t = process.hrtime.bigint();
      return { t1: t, t1r: t + SKEW, t2r: t + SKEW, t2: t };
    };
    const clock = new ClockSync(exchange, { intervalMs: 15, samples: 2 });
    clock.start();
    clock.start(); // no second loop
    for (let i = 0; i < 4; i++) await once(clock, 'sync');
    expect(clock.offset).toBe(-SKEW);
    clock.stop();
    const after = n;
    await new Promise((r) => setTimeout(r, 80));
    expect(n).toBe(after);
    clock.start();
    await once(clock, 'sync');
    clock.reset();
    expect(clock.drift).toBeUndefined();
    expect(clock.offset).toBe(-SKEW); // the model stays until the next sync
    clock.close();
    expect(clock.started).toBe(false);
  });

  it("reports a failed periodic sync as 'error' and keeps trying", async () => {
    let calls = 0;
    const clock = new ClockSync(
      async () => {
        calls++;
        if (calls === 1) throw new Error('not now');
        const t = process.hrtime.bigint();
        return { t1: t, t1r: t, t2r: t, t2: t };
      },
      { intervalMs: 10, samples: 1 },
    );
    const errors: Error[] = [];
    clock.on('error', (e: Error) => errors.push(e));
    // (not events.once: it rejects on the 'error' this test expects)
    const synced = new Promise((resolve) => clock.once('sync', resolve));
    clock.start();
    await synced;
    expect(errors.map((e) => e.message)).toEqual(['not now']);
    clock.close();
  });
});

describe('clock sync end to end over a unix socket', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vsock-rpc-clock-'));
  let n = 0;
  const socketAddress = () => `unix://${path.join(dir, `s${n++}.sock`)}`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('server skewed +5 s, client unskewed: the client estimates −5 s, the server +5 s', async () => {
    const address = socketAddress();
    const server = await ServerEngine.listen(address, { registry: exampleRegistry, clockSkewNs: SKEW, logger: null });
    const peerP = once(server, 'peer') as Promise<[PeerHandle<typeof exampleRegistry>]>;
    const client = await ClientEngine.connect(address, { registry: exampleRegistry, clock: false, logger: null });
    try {
      const r = await client.syncClock({ samples: 8 });
      const error = r.offsetNs - -SKEW;
      expect(abs(error)).toBeLessThan(FIVE_MS);
      // T1..T2 are real readings of one CLOCK_MONOTONIC: the bound is not just plausible, it holds
      expect(abs(error)).toBeLessThanOrEqual(r.errorBoundNs);
      expect(r.samples).toBe(32); // the first burst runs to maxSamples (4 × 8) to learn the delay floor
      expect(client.clock.lastSync).toBe(r);
      expect(client.clock.started).toBe(false); // clock: false: no periodic syncs

      const [peer] = await peerP;
      const s = await syncClock(peer.clockExchange, { samples: 4 });
      expect(abs(s.offsetNs - SKEW)).toBeLessThan(FIVE_MS);
      expect(abs(s.offsetNs - SKEW)).toBeLessThanOrEqual(s.errorBoundNs);
    } finally {
      await client.close(100);
      await server.close(100);
    }
  });

  it('client skewed −5 s, server unskewed: the default periodic sync, drift and metrics', async () => {
    const address = socketAddress();
    const server = await ServerEngine.listen(address, { registry: exampleRegistry, logger: null });
    const prom = new PromRegistry();
    const client = await ClientEngine.connect(address, {
      registry: exampleRegistry,
      clockSkewNs: -SKEW,
      clock: { intervalMs: 100, samples: 4 },
      promRegistry: prom,
      logger: null,
    });
    try {
      expect(client.clock.started).toBe(true);
      // enough syncs to span the drift estimator's 0.5 s minimum
      while ((client.clock.drift?.points ?? 0) < 6) await once(client.clock, 'sync');
      const offset = client.clock.offset!;
      expect(abs(offset - -SKEW)).toBeLessThan(FIVE_MS);
      expect(abs(client.clock.lastSync!.offsetNs - -SKEW)).toBeLessThanOrEqual(client.clock.lastSync!.errorBoundNs);
      // one machine, one clock: the true drift is 0, and the estimate's worst case covers that
      expect(Math.abs(client.clock.driftPpm!)).toBeLessThanOrEqual(client.clock.drift!.uncertaintyPpm);
      const now = client.now();
      const remote = client.clock.toRemote(now);
      expect(abs(remote.value - (now + SKEW))).toBeLessThan(FIVE_MS);
      expect(await prom.getSingleMetricAsString('vsockrpc_clock_offset_seconds')).toMatch(/clock_offset_seconds\{role="client"\} -(4\.99|5)/);
    } finally {
      await client.close(100);
      await server.close(100);
    }
    expect(client.clock.started).toBe(false);
  });

  it('stops syncing while disconnected and starts again after the reconnect', async () => {
    const address = socketAddress();
    let server = await ServerEngine.listen(address, { registry: exampleRegistry, clockSkewNs: SKEW, logger: null });
    const client = await ClientEngine.connect(address, {
      registry: exampleRegistry,
      clock: { intervalMs: 50, samples: 2 },
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
      logger: null,
    });
    try {
      await once(client.clock, 'sync');
      const disconnected = once(client, 'disconnected');
      await server.close(100);
      await disconnected;
      expect(client.clock.started).toBe(false);
      server = await ServerEngine.listen(address, { registry: exampleRegistry, clockSkewNs: 2n * SKEW, logger: null });
      await once(client, 'connected');
      expect(client.clock.started).toBe(true);
      await once(client.clock, 'sync');
      expect(abs(client.clock.offset! - -2n * SKEW)).toBeLessThan(FIVE_MS);
    } finally {
      await client.close(100);
      await server.close(100);
    }
  });
});

/**
 * The host's defences against a hostile guest (issue 11): a source's clock is not trusted, a
 * source's buffer share is its own, its counters are bounded, its seq and its status claims
 * cannot forge the host's accounting.
 */
import { describe, expect, it } from 'vitest';
import { SequenceTracker, Timeline, WatermarkMerge, batchFromEvents, type TraceAgentStatus, type TraceEvent } from '../src/index.js';
import { ev, tss } from './helpers.js';

const DAY = 86_400_000_000_000n;
const MS = 1_000_000n;

function clock(start: bigint): { now: () => bigint; set: (t: bigint) => void } {
  let t = start;
  return { now: () => t, set: (v) => void (t = v) };
}

describe('WatermarkMerge: a source stamping events in the future', () => {
  it('300 batches of 1000 events 11.6 days ahead are rejected and counted; nobody else becomes late', () => {
    const c = clock(1_000n * DAY);
    const m = new WatermarkMerge({ now: c.now, latenessNs: 100n * MS });
    m.addSource('observer');
    m.addSource('attacker');
    const ahead = c.now() + (116n * DAY) / 10n;
    let seq = 0;
    for (let b = 0; b < 300; b++) {
      m.push(Array.from({ length: 1000 }, () => ev('attacker', seq++, ahead)));
    }
    let st = m.stats();
    expect(st.future).toBe(300_000);
    expect(st.futureBySource).toEqual({ attacker: 300_000 });
    expect(st.buffered).toBe(0);
    expect(st.releasedTs).toBeNull();
    // The attacker leaves; the observer and a new good peer carry on, in the present.
    m.removeSource('attacker');
    m.addSource('newcomer');
    const out: TraceEvent[] = [];
    for (let i = 0; i < 50; i++) {
      c.set(c.now() + MS);
      out.push(...m.push([ev('observer', i, c.now()), ev('newcomer', i, c.now())]));
    }
    c.set(c.now() + 200n * MS);
    out.push(...m.poll());
    st = m.stats();
    expect(st.late).toBe(0);
    expect(out.length).toBe(100);
    expect(st.buffered).toBe(0);
  });

  it('allows the source its error bound (capped) plus the margin', () => {
    const c = clock(10n * DAY);
    const m = new WatermarkMerge({ now: c.now, latenessNs: 0n, maxFutureNs: 1_000n });
    m.addSource('s');
    m.push([ev('s', 0, c.now() + 1_000n)]); // within the margin
    m.push([ev('s', 1, c.now() + 1_500n, { errorBoundNs: 600n })]); // within margin + bound
    m.push([ev('s', 2, c.now() + 5_000n, { errorBoundNs: DAY })]); // bound credited at most 1 000
    expect(m.stats()).toMatchObject({ future: 1, futureBySource: { s: 1 }, pushed: 3, released: 2 });
  });

  it('caps a forged heartbeat watermark at now + margin', () => {
    const c = clock(DAY);
    const m = new WatermarkMerge({ now: c.now, latenessNs: 0n, maxFutureNs: 10n });
    m.advance('s', c.now() + DAY);
    expect(m.stats().watermarks['s']).toBe(c.now() + 10n);
  });
});

describe('WatermarkMerge: per-source shares of the buffer', () => {
  it('a flooding source overflows its own share; the others are neither evicted nor made late', () => {
    const c = clock(DAY);
    const m = new WatermarkMerge({ now: c.now, latenessNs: 1_000n * MS, maxBuffered: 1000, minSourceShare: 10 });
    for (const s of ['slow', 'good', 'flood']) m.addSource(s);
    const out: TraceEvent[] = [];
    // 'slow' has sent nothing yet, so everything is held; 'good' sends 300, 'flood' 100 000.
    out.push(...m.push(Array.from({ length: 300 }, (_, i) => ev('good', i, c.now() + BigInt(i)))));
    let seq = 0;
    for (let b = 0; b < 100; b++) out.push(...m.push(Array.from({ length: 1000 }, () => ev('flood', seq++, c.now()))));
    let st = m.stats();
    expect(out).toEqual([]);
    expect(st.forced).toBe(0);
    expect(st.bufferedBySource['good']).toBe(300);
    expect(st.bufferedBySource['flood']).toBe(Math.floor(1000 / 3));
    expect(st.overflow).toBe(100_000 - Math.floor(1000 / 3));
    expect(st.overflowBySource).toEqual({ flood: st.overflow });
    // The slow source catches up (and the flood promises nothing older): good's events come
    // out, in order, none late.
    out.push(...m.advance('flood', c.now() + 1_000n));
    out.push(...m.push([ev('slow', 0, c.now() + 1_000n)]));
    st = m.stats();
    expect(st.late).toBe(0);
    expect(out.filter((e) => e.source === 'good').length).toBe(300);
    for (let i = 1; i < out.length; i++) expect(out[i]!.ts >= out[i - 1]!.ts).toBe(true);
  });

  it('a source that leaves has its buffered events flow out in order, none stuck', () => {
    const c = clock(DAY);
    const m = new WatermarkMerge({ now: c.now, latenessNs: 50n * MS });
    m.addSource('stays');
    m.addSource('leaves');
    m.push([ev('leaves', 0, c.now() - 3n), ev('leaves', 1, c.now() - 2n), ev('leaves', 2, c.now() - 1n)]);
    expect(m.buffered).toBe(3);
    expect(m.removeSource('leaves')).toEqual([]); // 'stays' has not delivered: still held, up to the lateness bound
    c.set(c.now() + 60n * MS);
    expect(m.poll().map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(m.stats()).toMatchObject({ buffered: 0, late: 0 });
  });
});

describe('WatermarkMerge: bounded per-source counters', () => {
  it('keeps maxRetiredSources departed sources by name and folds the rest into otherSources', () => {
    const m = new WatermarkMerge({ now: () => 0n, maxRetiredSources: 10 });
    m.addSource('a');
    m.push([ev('a', 0, 100)]);
    m.flush();
    for (let i = 0; i < 3000; i++) {
      m.addSource(`s${i}`);
      m.push([ev(`s${i}`, 0, 1)]); // late: below the released 100
      m.removeSource(`s${i}`);
    }
    const st = m.stats();
    expect(st.late).toBe(3000);
    expect(Object.keys(st.lateBySource).length).toBe(10);
    expect(st.otherSources.late).toBe(2990);
    expect(st.lateBySource['s2999']).toBe(1);
  });
});

describe('SequenceTracker', () => {
  it('counts duplicates, plausible gaps and implausible jumps; starts anywhere', () => {
    const t = new SequenceTracker({ maxSeqGap: 100 });
    expect([5, 6, 7].map((s) => t.accept(s))).toEqual(['new', 'new', 'new']);
    expect(t.accept(6)).toBe('duplicate');
    expect(t.accept(10)).toBe('new'); // 8, 9 missing
    expect(t.accept(1e12)).toBe('new'); // a forged jump
    expect(t).toMatchObject({ duplicates: 1, seqGaps: 2, seqJumps: 1, highest: 1e12 });
  });

  it('acks everything received when nothing is held, else up to the last released; only forward', () => {
    const t = new SequenceTracker();
    expect(t.ackPosition(0, undefined)).toBeUndefined(); // nothing received
    for (let s = 0; s < 10; s++) t.accept(s);
    expect(t.ackPosition(4, 5)).toBe(5);
    expect(t.ackPosition(4, 5)).toBeUndefined(); // no change, no ack
    expect(t.ackPosition(0, 5)).toBe(9);
    expect(t.ackPosition(2, 3)).toBeUndefined(); // never backwards
  });
});

describe('Timeline: forged accounting', () => {
  const status = (over: Partial<TraceAgentStatus>): TraceAgentStatus => ({ source: 'x', emitted: 10, sent: 10, dropped: 0, clamped: 0, ...over });

  it('a forged seq of 10^12 is one seq jump, not a trillion missing events; duplicates are not merged twice', () => {
    const c = clock(DAY);
    const got: TraceEvent[] = [];
    const t = new Timeline({ now: c.now, latenessNs: 0n, onEvents: (e) => got.push(...e) });
    t.addSource('g');
    const e = (seq: number) => ev('g', seq, c.now());
    t.pushBatch('g', batchFromEvents('g', [e(0), e(1), e(2)]));
    t.pushBatch('g', batchFromEvents('g', [e(1), e(2), e(3)])); // resent after a reconnect
    t.pushBatch('g', batchFromEvents('g', [e(1e12)]));
    t.flush();
    const st = t.stats();
    expect(st.bySource['g']).toMatchObject({ events: 5, duplicates: 2, seqGaps: 0, seqJumps: 1, lastSeq: 1e12 });
    expect(st).toMatchObject({ received: 5, duplicates: 2, seqGaps: 0, seqJumps: 1 });
    expect(got.map((x) => x.seq)).toEqual([0, 1, 2, 3, 1e12]);
  });

  it("a guest's status is kept as its clamped claim, under the verified name, apart from host drops", () => {
    const t = new Timeline({ now: () => 0n });
    t.addSource('g');
    t.setAgentStatus('g', status({ source: 'someone-else\x1b[2J', emitted: 5, dropped: 999_999_999, sent: 1e15 }));
    const st = t.stats();
    expect(st.bySource['g']!.agent).toMatchObject({ source: 'g', emitted: 5, dropped: 5, sent: 5 });
    expect(st.agentDropped).toBe(5);
    expect(st.dropped).toBe(0);
    t.setAgentStatus('g', status({ emitted: 1e18, dropped: 1e18 }));
    expect(t.stats().bySource['g']!.agent!.dropped).toBe(1e12);
  });

  it('acks a source only once its events are released (or accounted), coalesced per source', () => {
    const c = clock(DAY);
    const t = new Timeline({ now: c.now, latenessNs: 100n * MS });
    t.addSource('g');
    t.addSource('held-back-by');
    const now = c.now();
    t.pushBatch('g', batchFromEvents('g', [ev('g', 0, now), ev('g', 1, now + 1n)]));
    expect(t.takeAcks()).toEqual([]); // held by the other source's missing watermark
    t.advance('held-back-by', now); // releases seq 0 only
    expect(t.takeAcks()).toEqual([{ source: 'g', seq: 0 }]);
    t.advance('held-back-by', now + 10n);
    expect(t.takeAcks()).toEqual([{ source: 'g', seq: 1 }]);
    expect(t.takeAcks()).toEqual([]);
    // A duplicate and a future event are accounted for at once.
    t.pushBatch('g', batchFromEvents('g', [ev('g', 1, now + 1n), ev('g', 2, now + DAY)]));
    expect(t.takeAcks()).toEqual([{ source: 'g', seq: 2 }]);
    expect(t.stats().bySource['g']).toMatchObject({ future: 1, duplicates: 1, acked: 2 });
    // Local (host) sources are not acknowledged.
    t.addLocal([ev('host', 0, now + 20n)], now + 20n);
    expect(t.takeAcks()).toEqual([]);
    t.close();
  });

  it('keeps the stats of a bounded number of departed sources', () => {
    const t = new Timeline({ now: () => 0n, maxRetiredSources: 5 });
    for (let i = 0; i < 100; i++) {
      t.addSource(`g${i}`);
      t.pushBatch(`g${i}`, batchFromEvents(`g${i}`, [ev(`g${i}`, 0, 1)]));
      t.removeSource(`g${i}`);
    }
    const st = t.stats();
    expect(Object.keys(st.bySource).length).toBe(5);
    expect(st.otherSources).toMatchObject({ sources: 95, events: 95 });
    expect(st.received).toBe(100);
    expect(tss([])).toEqual([]);
    t.close();
  });
});

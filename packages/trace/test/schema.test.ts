import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { TraceBatch, TraceEvent, TraceSchemas, batchFromEvents, eventsFromBatch } from '../src/index.js';
import { ev } from './helpers.js';

describe('TraceEvent schema', () => {
  it('accepts a full event and a minimal one', () => {
    const full = ev('guest1', 3, 1_000n, {
      origTs: 77n,
      errorBoundNs: 12n,
      text: 'hello',
      fields: { a: 'x', b: 1.5, c: true, d: 2n ** 63n },
    });
    expect(Value.Check(TraceEvent, full)).toBe(true);
    expect(Value.Check(TraceEvent, ev('host', 0, 0n))).toBe(true);
  });

  it('rejects wrong types, non-integer seq, negative error bound, unknown properties', () => {
    expect(Value.Check(TraceEvent, { ...ev('host', 0, 1n), ts: 1 })).toBe(false);
    expect(Value.Check(TraceEvent, { ...ev('host', 0, 1n), seq: 1.5 })).toBe(false);
    expect(Value.Check(TraceEvent, { ...ev('host', 0, 1n), errorBoundNs: -1n })).toBe(false);
    expect(Value.Check(TraceEvent, { ...ev('host', 0, 1n), extra: 1 })).toBe(false);
    expect(Value.Check(TraceEvent, { ...ev('host', 0, 1n), source: '' })).toBe(false);
    expect(Value.Check(TraceEvent, { ...ev('host', 0, 1n), fields: { a: null } })).toBe(false);
  });

  it('batches round-trip through the lean batch shape', () => {
    const events = [ev('g', 0, 5n, { text: 't' }), ev('g', 1, 6n, { fields: { k: 1 } })];
    const batch = batchFromEvents('g', events, 7n);
    expect(Value.Check(TraceBatch, batch)).toBe(true);
    expect(batch.events[0]).not.toHaveProperty('source');
    expect(batch.watermark).toBe(7n);
    expect(eventsFromBatch(batch)).toEqual(events);
    // The collector stamps the authenticated peer name.
    expect(eventsFromBatch(batch, 'peer').map((e) => e.source)).toEqual(['peer', 'peer']);
    expect(() => batchFromEvents('other', events)).toThrow(expect.objectContaining({ name: 'TraceError', code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('exports every schema for the registry', () => {
    expect(Object.keys(TraceSchemas).sort()).toEqual(['TraceBatch', 'TraceBatchEvent', 'TraceEvent', 'TraceFieldValue', 'TraceFields'].sort());
  });
});

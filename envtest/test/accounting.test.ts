/**
 * Issue 11, forged accounting: what a guest reports is its claim (clamped, labelled, apart from
 * what the host measured), and guest-chosen names are escaped before a log line or terminal.
 */
import { describe, expect, it } from 'vitest';
import { Timeline, batchFromEvents, type TraceEvent } from '@vsock-rpc/trace';
import { StatusLine } from '../src/status.js';
import { guestClaimLines, timelineSummary } from '../src/summary.js';

const ev = (source: string, seq: number, ts: bigint): TraceEvent => ({ source, seq, ts, origTs: ts, errorBoundNs: 0n, kind: 'message' });

function attacked(): Timeline {
  const t = new Timeline({ now: () => 1_000_000_000n, latenessNs: 0n });
  const name = 'evil\n── fake status\x1b[2J';
  t.addSource(name);
  t.setAgentStatus(name, { source: 'other', emitted: 3, sent: 3, dropped: 999_999_999, clamped: 0 });
  t.pushBatch(name, batchFromEvents(name, [ev(name, 0, 1n), ev(name, 1e12, 2n)]));
  t.flush();
  return t;
}

describe('server summary parts', () => {
  it("keeps a guest's drop claim apart from host drops, clamped, and a forged seq as one jump", () => {
    const s = timelineSummary(attacked().stats());
    expect(s.droppedBy).toEqual({ timeline: 0, overflow: 0, future: 0 });
    const claim = Object.values(s.guestClaims)[0]!;
    expect(claim.dropped).toBe(3); // clamped to what it says it emitted
    expect(s.measured).toMatchObject({ seqGaps: 0, seqJumps: 1, duplicates: 0 });
  });

  it('labels the claim and escapes the name in the log line', () => {
    const lines = guestClaimLines(timelineSummary(attacked().stats()).guestClaims);
    expect(lines).toEqual(['envtest server: guest evil\\n── fake status\\e[2J reports dropped 3 (its claim, not measured here)']);
  });
});

describe('status line', () => {
  it('escapes source names and shows guest claims apart from host drops', () => {
    const line = new StatusLine().format(attacked().stats(), 0);
    expect(line).not.toMatch(/[\n\x1b]/);
    expect(line).toContain('dropped 0 ');
    expect(line).toContain('guests report dropped 3');
  });
});

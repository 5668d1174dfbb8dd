/**
 * Attack 9: forged accounting. A guest claims dropped = 999999999 in a traceAgentStatus and sends
 * an event with seq 10^12. The server's summary must show the claim as the guest's (not as drops
 * the host measured) and must not add ~10^12 to its own seq-gap count. The summary exists only
 * once the server stops: `checkForgedSummary` runs then.
 */
import { tally, type Attack } from '../harness/types.js';
import { TRACE_AGENT_STATUS, TRACE_BATCH, event, monoNs, ping } from '../lib/frames.js';
import { RawPeer, attackerAddress, packr } from '../lib/peer.js';

export const FORGED_CLAIM = 999_999_999;
export const FORGED_SEQ = 1e12;
export const FORGER = 'forger';

export const forged: Attack = async (env) => {
  const peer = await RawPeer.connect(env.port, attackerAddress(5));
  await peer.handshake(FORGER);
  const t = monoNs();
  const ev = (seq: number, k: number) => ({ seq, ts: t + BigInt(k) * 1000n, origTs: t + BigInt(k) * 1000n, errorBoundNs: 0n, kind: 'message', text: 'FORGED' });
  peer.write(event(TRACE_BATCH, packr.pack({ source: FORGER, events: [ev(0, 0), ev(1, 1), ev(FORGED_SEQ, 2), ev(FORGED_SEQ + 1, 3)] })));
  peer.write(
    event(TRACE_AGENT_STATUS, packr.pack({ source: FORGER, emitted: FORGED_CLAIM, sent: FORGED_CLAIM, dropped: FORGED_CLAIM, clamped: FORGED_CLAIM })),
  );
  peer.write(ping(7));
  await peer.until(() => peer.closed || peer.frames.some((f) => f.id === 7), 5000);
  const outcome = peer.goaway?.code ?? (peer.closed ? 'closed without GOAWAY' : 'open');
  peer.destroy();
  return {
    sent: `traceAgentStatus dropped=${FORGED_CLAIM}; events with seq 0, 1, 10^12, 10^12+1 (checked in the summary at stop)`,
    closeCodes: tally([outcome]),
    failures: [],
  };
};

/** Paths in `obj` whose value is `target` (numbers and numeric strings). */
function pathsOf(obj: unknown, target: number, at = ''): string[] {
  if (typeof obj === 'number' || typeof obj === 'string') return Number(obj) === target ? [at] : [];
  if (obj && typeof obj === 'object') return Object.entries(obj).flatMap(([k, v]) => pathsOf(v, target, `${at}/${k}`));
  return [];
}

/** The summary checks of attack 9. */
export function checkForgedSummary(summary: Record<string, any> | undefined): { failures: string[]; notes: string[] } {
  if (!summary) return { failures: ['the server wrote no summary'], notes: [] };
  const failures: string[] = [];
  const claimPaths = pathsOf(summary, FORGED_CLAIM);
  const notes = [
    `summary paths holding ${FORGED_CLAIM}: ${claimPaths.join(', ') || 'none'}; dropped ${summary.dropped}; details.seqGaps ${summary.details?.seqGaps}`,
  ];
  if (Number(summary.dropped) >= FORGED_CLAIM)
    failures.push(`summary.dropped = ${summary.dropped}: the guest's claim is counted as a drop (droppedBy ${JSON.stringify(summary.droppedBy)})`);
  const labelled = claimPaths.filter((p) => /claim|report|guest/i.test(p));
  if (claimPaths.length && !labelled.length) failures.push(`the claim appears at ${claimPaths.join(', ')}, not under a name that says it is the guest's claim`);
  if (!claimPaths.length) notes.push('the claim is not in the summary at all');
  const gaps = Number(summary.details?.seqGaps ?? 0);
  if (gaps >= 1e9) failures.push(`details.seqGaps = ${gaps}: the forged seq 10^12 was added to a host-measured gap count`);
  return { failures, notes };
}

/**
 * The legacy clock exchange. The client takes T1, sends a timestamps request, the server
 * answers {recvtime = T1′, sendtime = T2′} on its clock, the client takes T2 after reading the
 * reply, and computes Δt = ((T1 − T1′) + (T2 − T2′)) / 2 (client minus server, integer division
 * truncating toward zero, as C does). The client subtracts Δt from every timestamp it sends;
 * the server applies nothing.
 * @packageDocumentation
 */
import { LEGACY_CLOCK_INTERVAL_NS } from './constants.js';
import { encodeClockReplyFrame } from './codec.js';

/** The four instants of one exchange, ns: T1, T2 on the client's clock, T1′, T2′ on the server's. */
export interface LegacyClockSample {
  t1: bigint;
  t1p: bigint;
  t2p: bigint;
  t2: bigint;
}

/** Δt = ((T1 − T1′) + (T2 − T2′)) / 2, truncated toward zero: client clock minus server clock. */
export function legacyClockOffset(s: LegacyClockSample): bigint {
  return (s.t1 - s.t1p + (s.t2 - s.t2p)) / 2n;
}

/**
 * What the original cannot say: the sample's error bound. The true offset lies within
 * ±((T2 − T1) − (T2′ − T1′)) / 2 of Δt (half the round trip without the server's own time),
 * ignoring the one integer-division nanosecond.
 */
export function legacyClockErrorBound(s: LegacyClockSample): bigint {
  const d = s.t2 - s.t1 - (s.t2p - s.t1p);
  return d > 0n ? (d + 1n) / 2n : 0n;
}

/** A client timestamp in the server's clock, as the original client sends it: `ts − Δt`. */
export function toLegacyServerTime(ts: bigint, offset: bigint): bigint {
  return ts - offset;
}

/**
 * Whether a client should run an exchange before its next send. The original syncs only when
 * `now − lastSync > 60 s` with `lastSync` starting at 0 (so never in the first minute of its
 * clock); here a client that has never synced syncs at once (`lastSync` undefined).
 */
export function legacyClockDue(now: bigint, lastSync: bigint | undefined, intervalNs: bigint = LEGACY_CLOCK_INTERVAL_NS): boolean {
  return lastSync === undefined || now - lastSync > intervalNs;
}

/**
 * The server's side: the reply frame to a clock request that arrived at `arrivalNs` (T1′; the
 * original stamps after decoding, stamping on arrival is closer to the truth), with T2′ taken
 * from `now()` as the frame is made: write it at once.
 */
export function answerClockRequest(arrivalNs: bigint, now: () => bigint): { frame: Buffer; t1p: bigint; t2p: bigint } {
  const t2p = now();
  return { frame: encodeClockReplyFrame({ recvtime: arrivalNs, sendtime: t2p }), t1p: arrivalNs, t2p };
}

/**
 * Attack 6: connection storms. (a) Thousands of connections whose first frame is bad: each must
 * get GOAWAY PROTOCOL_ERROR, and the server's RSS must come back near baseline once idle.
 * (b) An idle flood of handshake-pending connections from attacker addresses, held open: good
 * peers from 127.0.0.1 must still get in at once (the harness measures it while they are held).
 */
import { goodPeerConnectMs } from '../harness/good-peer.js';
import { readMem } from '../harness/proc.js';
import { tally, type Attack } from '../harness/types.js';
import { TRACE_BATCH, event } from '../lib/frames.js';
import { RawPeer, attackerAddress, packr, sleep } from '../lib/peer.js';

export const storms: Attack = async (env) => {
  const badCount = env.full ? 3000 : 600;
  const idleCount = env.full ? 2000 : 400;
  const idleMs = env.full ? 10_000 : 4000;
  const failures: string[] = [];
  const notes: string[] = [];
  const before = readMem(env.server.pid);

  // (a) bad first frame: an EVENT before HELLO.
  const badOutcomes: string[] = [];
  const bad = event(TRACE_BATCH, packr.pack({ source: 'storm', events: [] }));
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < badCount) {
        const i = next++;
        let peer: RawPeer | undefined;
        try {
          peer = await RawPeer.connect(env.port, attackerAddress(i));
          peer.write(bad);
          const e = await peer.ending(5000);
          badOutcomes.push(e.goaway ?? (e.closed ? 'closed without GOAWAY' : 'open after 5 s'));
        } catch (err) {
          badOutcomes.push(`connect error: ${(err as Error).message.slice(0, 40)}`);
        } finally {
          peer?.destroy();
        }
      }
    }),
  );
  const wrong = badOutcomes.filter((o) => o !== 'PROTOCOL_ERROR');
  if (wrong.length) failures.push(`bad first frame: ${wrong.length} of ${badCount} connections did not get GOAWAY PROTOCOL_ERROR (${tally(wrong)})`);
  await sleep(idleMs);
  const afterIdle = readMem(env.server.pid);
  notes.push(`${badCount} bad-first-frame connections: RSS ${before?.rssMiB.toFixed(1)} → ${afterIdle?.rssMiB.toFixed(1)} MiB after ${idleMs / 1000} s idle`);

  // (b) handshake-pending idle flood, held while good peers connect.
  const held: RawPeer[] = [];
  const idleOutcomes: string[] = [];
  for (let i = 0; i < idleCount; i++) {
    try {
      held.push(await RawPeer.connect(env.port, attackerAddress(i), 3000));
    } catch (err) {
      idleOutcomes.push(`connect refused/timed out`);
    }
  }
  await sleep(500);
  const probes: number[] = [];
  for (let k = 0; k < 3; k++) {
    const r = await goodPeerConnectMs(env.port);
    if (r instanceof Error) failures.push(`good peer during the idle flood of ${held.length}: ${r.message}`);
    else probes.push(r);
    await sleep(300);
  }
  notes.push(`good peer connect during an idle flood of ${held.length} pending connections: ${probes.map((p) => p.toFixed(1)).join(', ')} ms`);
  if (probes.some((p) => p >= 3000)) failures.push(`good peer took ${Math.max(...probes).toFixed(0)} ms during the idle flood`);
  for (const p of held) idleOutcomes.push(p.goaway?.code ? `pending: ${p.goaway.code}` : p.closed ? 'pending: closed without GOAWAY' : 'pending: held open');
  for (const p of held) p.destroy();
  return {
    sent: `${badCount} connections with an EVENT before HELLO; ${idleCount} handshake-pending connections held`,
    closeCodes: `${tally(badOutcomes)}; ${tally(idleOutcomes)}`,
    failures,
    notes,
  };
};

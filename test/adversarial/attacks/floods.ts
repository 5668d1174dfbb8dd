/**
 * Attack 4: reply floods: PING, CLOCK_REQUEST and REQUEST in a loop on a peer that never reads
 * its replies. The server must stop reading from that peer (its replies back up) instead of
 * queueing without bound; RSS stays bounded and other peers are not stalled.
 */
import type { Attack } from '../harness/types.js';
import { Control } from '../lib/frame.js';
import { TRACE_BATCH, control, ping, request } from '../lib/frames.js';
import { RawPeer, attackerAddress, packr, sleep } from '../lib/peer.js';

export const floods: Attack = async (env) => {
  const frameCap = env.full ? 20_000_000 : 1_000_000;
  const timeCapMs = env.full ? 30_000 : 6_000;
  const kinds: [string, (i: number) => Buffer][] = [
    ['PING', (i) => ping(i)],
    ['CLOCK_REQUEST', (i) => control(Control.CLOCK_REQUEST, i, Buffer.alloc(8))],
    ['REQUEST', (i) => request(TRACE_BATCH, (i % 0xfffffffe) + 1, packr.pack({ x: 1 }))],
  ];
  const outcomes: string[] = [];
  const notes: string[] = [];
  const failures: string[] = [];
  await Promise.all(
    kinds.map(async ([name, make], k) => {
      const peer = await RawPeer.connect(env.port, attackerAddress(k));
      await peer.handshake(`flood-${name}`);
      peer.socket.pause(); // never read: the server's replies must back up
      const t0 = performance.now();
      let sent = 0;
      let stalled = false;
      const batch = 1000;
      while (sent < frameCap && performance.now() - t0 < timeCapMs && !peer.closed) {
        const buf = Buffer.concat(Array.from({ length: batch }, (_, i) => make(sent + i + 1)));
        sent += batch;
        if (!peer.write(buf)) {
          // Our send buffer is full: wait a little for the server to read; if it does not, it stopped reading from us.
          const drained = await Promise.race([new Promise<boolean>((r) => peer.socket.once('drain', () => r(true))), sleep(1000).then(() => false)]);
          if (!drained) {
            stalled = true;
            break;
          }
        }
      }
      const written = peer.socket.bytesWritten;
      // Read what is there for a moment, to see whether the server ended us with a GOAWAY.
      peer.socket.resume();
      await peer.until(() => peer.goaway !== undefined, 1500);
      const outcome = peer.goaway?.code ?? (peer.closed ? 'closed without GOAWAY' : stalled ? 'server stopped reading' : 'server kept reading');
      outcomes.push(`${name}: ${outcome}`);
      notes.push(
        `${name}: ${sent} frames queued, ${(written / 1048576).toFixed(1)} MiB left our socket in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${outcome}`,
      );
      if (outcome === 'server kept reading' && sent >= frameCap)
        failures.push(
          `${name}: the server read all ${sent} frames without our reading a reply: its replies went somewhere unbounded or were dropped (check RSS)`,
        );
      peer.destroy();
    }),
  );
  return {
    sent: `PING / CLOCK_REQUEST / REQUEST floods, never reading (≤ ${frameCap} frames or ${timeCapMs / 1000} s each)`,
    closeCodes: outcomes.join('; '),
    failures,
    notes,
  };
};

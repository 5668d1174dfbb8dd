/**
 * Attack 3: slow and partial frames. A handshake has a hard deadline (§5: 10 s SHOULD,
 * HANDSHAKE_TIMEOUT); a frame must complete at a minimum rate; a peer that never completes a
 * frame is idle. Each case must be closed by the server within its bound, with a named code.
 */
import { NAMED_GOAWAY_CODES } from '../harness/criteria.js';
import { tally, type Attack } from '../harness/types.js';
import { Control, Kind, encodeFrame } from '../lib/frame.js';
import { TRACE_BATCH, header } from '../lib/frames.js';
import { RawPeer, attackerAddress, sleep } from '../lib/peer.js';

interface SlowCase {
  name: string;
  /** Handshake completes before the slow part. */
  hello: boolean;
  /** Bytes to trickle, and the gap between single bytes (ms); or nothing (slowloris). */
  bytes?: Buffer;
  gapMs?: number;
  /** The server must have closed us by then (ms from connect). */
  boundMs: number;
  /** Acceptable codes. */
  codes: string[];
}

export const slow: Attack = async (env) => {
  // The server's handshake deadline (§5: 10 s SHOULD; the CLI's flag) plus 5 s for a loaded machine.
  const handshakeBound = env.deadlines.handshakeMs + 5000;
  // §2: idle = no complete frame; the server closes with IDLE_TIMEOUT after its idle deadline (a
  // frame must also complete within a time + length at a minimum rate: FRAME_TIMEOUT). Twice the
  // idle deadline is generous on a loaded machine.
  const trickleBound = env.deadlines.idleMs * 2;
  const trickleBytes = Math.min(16 * 1024 * 1024, env.maxFrame);
  const cases: SlowCase[] = [
    { name: 'slowloris: connect, send nothing', hello: false, boundMs: handshakeBound, codes: ['HANDSHAKE_TIMEOUT'] },
    {
      name: 'half a HELLO header, then nothing',
      hello: false,
      bytes: header(100, Control.HELLO, Kind.CONTROL, 0, 0).subarray(0, 6),
      gapMs: 0,
      boundMs: handshakeBound,
      codes: ['HANDSHAKE_TIMEOUT'],
    },
    { name: 'a HELLO 1 byte/s', hello: false, bytes: undefined, gapMs: 1000, boundMs: handshakeBound, codes: ['HANDSHAKE_TIMEOUT'] },
    {
      name: `after HELLO: header announcing ${trickleBytes} B, then 1 byte/s`,
      hello: true,
      bytes: Buffer.concat([header(trickleBytes, TRACE_BATCH, Kind.EVENT, 0, 0), Buffer.alloc(100_000)]),
      gapMs: 1000,
      boundMs: trickleBound,
      codes: ['IDLE_TIMEOUT', 'FRAME_TIMEOUT', 'FRAME_TOO_LARGE'],
    },
    {
      name: 'after HELLO: half a header, then nothing',
      hello: true,
      bytes: header(8, TRACE_BATCH, Kind.EVENT, 0, 0).subarray(0, 6),
      gapMs: 0,
      boundMs: trickleBound,
      codes: ['IDLE_TIMEOUT', 'FRAME_TIMEOUT'],
    },
  ];
  const outcomes: string[] = [];
  const failures: string[] = [];
  const notes: string[] = [];
  await Promise.all(
    cases.map(async (c, i) => {
      const peer = await RawPeer.connect(env.port, attackerAddress(i + 3));
      const t0 = peer.t0;
      try {
        let bytes = c.bytes;
        if (c.hello) await peer.handshake(`slow-${i}`);
        else if (c.name.startsWith('a HELLO')) {
          await peer.serverHello();
          bytes = encodeFrame({ type: Control.HELLO, kind: Kind.CONTROL, payload: peer.helloPayload('slow-hello') });
        }
        if (bytes && c.gapMs === 0) peer.write(bytes);
        else if (bytes) {
          for (let k = 0; k < bytes.length && !peer.closed && performance.now() - t0 < c.boundMs; k++) {
            peer.write(bytes.subarray(k, k + 1));
            await peer.until(() => peer.closed, c.gapMs!);
          }
        }
        await peer.until(() => peer.closed, Math.max(0, c.boundMs - (performance.now() - t0)));
        const ms = performance.now() - t0;
        const outcome = peer.goaway?.code ?? (peer.closed ? 'closed without GOAWAY' : 'still open');
        outcomes.push(outcome);
        notes.push(`${c.name}: ${outcome} after ${(ms / 1000).toFixed(1)} s`);
        if (!peer.closed) failures.push(`${c.name}: still open after ${(c.boundMs / 1000).toFixed(0)} s`);
        else if (!c.codes.includes(outcome))
          failures.push(
            `${c.name}: closed with ${outcome}, expected ${c.codes.join(' or ')}${NAMED_GOAWAY_CODES.has(outcome) ? '' : ' (not a code PROTOCOL.md names)'}`,
          );
      } finally {
        peer.destroy();
      }
    }),
  );
  await sleep(0);
  return { sent: `${cases.length} slow connections (slowloris, partial header, 1 B/s HELLO, 1 B/s frame)`, closeCodes: tally(outcomes), failures, notes };
};

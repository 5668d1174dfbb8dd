/**
 * Attack 2: random frames over many connections: valid frames with random bytes flipped, and
 * wholly random headers. Every connection must end with a GOAWAY code PROTOCOL.md names, or stay
 * open (what the spec allows: dropped events, ignored answers, a frame still incomplete). A
 * connection the server closes without a GOAWAY while we are still connected is a failure.
 */
import { NAMED_GOAWAY_CODES } from '../harness/criteria.js';
import { tally, type Attack } from '../harness/types.js';
import { Control } from '../lib/frame.js';
import { TRACE_AGENT_STATUS, TRACE_BATCH, control, errorFrame, event, goaway, monoNs, ping, request, response, traceBatch } from '../lib/frames.js';
import { RawPeer, attackerAddress, packr, sleep } from '../lib/peer.js';
import { prng } from '../lib/prng.js';

const SEED = 0x5eed_0011;

export const fuzz: Attack = async (env) => {
  const totalFrames = env.full ? 1_000_000 : 10_000;
  const perConn = env.full ? 250 : 50;
  const conns = Math.ceil(totalFrames / perConn);
  const rnd = prng(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  const templates = (): Buffer[] => [
    event(TRACE_BATCH, traceBatch('fuzz', int(1000), 1 + int(3), monoNs())),
    event(TRACE_AGENT_STATUS, packr.pack({ source: 'fuzz', emitted: 1, sent: 1, dropped: 0, clamped: 0 })),
    ping(int(2 ** 32)),
    control(Control.CLOCK_REQUEST, int(2 ** 32), Buffer.alloc(8)),
    request(TRACE_BATCH, 1 + int(1000), packr.pack({ a: 1 })),
    response(TRACE_BATCH, int(1000), packr.pack(1)),
    errorFrame(TRACE_BATCH, int(1000), packr.pack({ code: 'X', message: 'y' })),
    control(Control.CANCEL, int(1000)),
  ];
  const mutate = (f: Buffer): Buffer => {
    const r = rnd();
    if (r < 0.4) return f; // valid frames keep the connection going deep
    const m = Buffer.from(f);
    if (r < 0.7) {
      m[12 + int(Math.max(1, m.length - 12))] = int(256);
      return m;
    } // payload byte
    if (r < 0.9) {
      m[4 + int(8)] = int(256);
      return m;
    } // type/kind/flags/id byte
    if (r < 0.97) {
      const h = Buffer.from(Array.from({ length: 12 }, () => int(256)));
      h.writeUInt32LE(int(64), 0);
      return Buffer.concat([h, Buffer.alloc(h.readUInt32LE(0), int(256))]);
    }
    const h = Buffer.from(Array.from({ length: 12 }, () => int(256)));
    return h; // random length: maybe huge, maybe incomplete
  };

  const outcomes: string[] = [];
  const failures: string[] = [];
  let next = 0;
  let framesSent = 0;
  const concurrency = 8;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < conns) {
        const c = next++;
        if (c % Math.max(1, Math.floor(conns / 10)) === 0) env.log(`  fuzz: connection ${c}/${conns}`);
        let peer: RawPeer | undefined;
        try {
          peer = await RawPeer.connect(env.port, attackerAddress(c));
          await peer.handshake(`fuzz-${c}`);
          const chunk: Buffer[] = [];
          for (let i = 0; i < perConn; i++) chunk.push(mutate(templates()[int(8)]!));
          if (rnd() < 0.05) chunk.push(goaway('SHUTDOWN'));
          framesSent += chunk.length;
          peer.write(Buffer.concat(chunk));
          await peer.until(() => peer!.closed, 300);
          const closedFirst = peer.closed;
          if (!closedFirst) {
            peer.socket.end();
            await peer.until(() => peer!.closed, 2000);
          }
          let outcome: string;
          if (peer.goaway) outcome = peer.goaway.code;
          else if (closedFirst) outcome = 'closed without GOAWAY';
          else outcome = 'open';
          outcomes.push(outcome);
          if (peer.goaway && !NAMED_GOAWAY_CODES.has(peer.goaway.code))
            failures.push(`connection ${c}: GOAWAY code ${peer.goaway.code} is not one PROTOCOL.md names`);
          if (outcome === 'closed without GOAWAY' && failures.length < 20)
            failures.push(`connection ${c}: the server closed without a GOAWAY while we were connected`);
        } catch (e) {
          outcomes.push('connect/handshake error');
          if (failures.length < 20) failures.push(`connection ${c}: ${(e as Error).message}`);
        } finally {
          peer?.destroy();
        }
        await sleep(0);
      }
    }),
  );
  return {
    sent: `${framesSent} fuzzed frames over ${conns} connections (seed ${SEED.toString(16)})`,
    closeCodes: tally(outcomes),
    failures,
  };
};

/**
 * Attack 10: log injection. Peer names with a newline, a forged `envtest server:` line and ANSI
 * escapes, in HELLO (accepted and mismatched) and as trace sources. The server's stderr must
 * carry none of those control characters raw, and no forged line.
 */
import { tally, type Attack } from '../harness/types.js';
import { Control, Kind } from '../lib/frame.js';
import { TRACE_AGENT_STATUS, TRACE_BATCH, control, event, monoNs, traceBatch } from '../lib/frames.js';
import { RawPeer, attackerAddress, packr, sleep } from '../lib/peer.js';

export const FORGED_LINE = 'envtest server: FORGED';
const EVIL = `evil\n${FORGED_LINE} 0 events\r\n\x1b[2J\x1b[31mred\x1b]0;title\x07\x00\x08\x7f\u009b31m\u0085end`;

/** Control characters that must not appear raw: C0 except \n, DEL, C1. */
export function rawControls(text: string): string[] {
  const bad = new Set<string>();
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f)) bad.add(`U+${c.toString(16).padStart(4, '0')}`);
  }
  return [...bad];
}

export const logInjection: Attack = async (env) => {
  const startAt = env.server.stderrBuf.length;
  const outcomes: string[] = [];
  // 1. An accepted HELLO with the evil name, events and status as that source, then gone mid-frame.
  const p1 = await RawPeer.connect(env.port, attackerAddress(1));
  await p1.handshake(EVIL);
  p1.write(event(TRACE_BATCH, traceBatch(EVIL, 0, 3, monoNs())));
  p1.write(event(TRACE_AGENT_STATUS, packr.pack({ source: EVIL, emitted: 3, sent: 3, dropped: 1, clamped: 0 })));
  p1.write(event(TRACE_BATCH, Buffer.from([0xc1]))); // a dropped event: a log line naming the peer
  await sleep(300);
  p1.write(Buffer.from([1, 0, 0])); // truncated frame, then gone
  p1.destroy();
  outcomes.push('accepted, then truncated');
  // 2. A HELLO with the evil name and a wrong fingerprint: HELLO_MISMATCH, logged with the name.
  const p2 = await RawPeer.connect(env.port, attackerAddress(2));
  await p2.serverHello();
  p2.send({ type: Control.HELLO, kind: Kind.CONTROL, payload: p2.helloPayload(EVIL, { fingerprint: 'f'.repeat(32) }) });
  outcomes.push((await p2.ending(5000)).goaway ?? 'no GOAWAY');
  p2.destroy();
  // 3. A protocol error after an accepted evil HELLO (logged with the name).
  const p3 = await RawPeer.connect(env.port, attackerAddress(3));
  await p3.handshake(EVIL);
  p3.write(control(0xff0e, 0));
  outcomes.push((await p3.ending(5000)).goaway ?? 'no GOAWAY');
  p3.destroy();
  await sleep(1500); // let the server log
  const text = env.server.stderrBuf.subarray(startAt).toString('utf8');
  const failures: string[] = [];
  const ctrl = rawControls(text);
  if (ctrl.length) failures.push(`server stderr has raw control characters ${ctrl.join(' ')}: ${JSON.stringify(text.slice(0, 300))}`);
  const forgedLines = text.split('\n').filter((l) => l.startsWith(FORGED_LINE));
  if (forgedLines.length) failures.push(`server stderr has ${forgedLines.length} forged line(s): ${JSON.stringify(forgedLines[0])}`);
  return {
    sent: 'HELLO names with \\n, a forged "envtest server:" line, ANSI/OSC escapes, NUL, DEL, C1 (accepted, mismatched, protocol error)',
    closeCodes: tally(outcomes),
    failures,
    notes: [`stderr during the attack: ${JSON.stringify(text.slice(0, 400))}`],
  };
};

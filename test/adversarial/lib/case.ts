/**
 * One attack case on one fresh connection from an attacker address: optional HELLO, then raw
 * bytes, then a check of what PROTOCOL.md says must happen.
 */
import { Control, Kind } from './frame.js';
import { RawPeer, attackerAddress, packr } from './peer.js';

export type Expectation =
  /** GOAWAY with one of these codes, then close. */
  | { goaway: string[] }
  /** The connection stays open: PING after the attack is answered, no GOAWAY. */
  | { open: true }
  /** An ERROR frame answering call `id` with one of these codes, and the connection stays open. */
  | { error: string[]; id: number };

export interface CaseSpec {
  name: string;
  /** Send our HELLO first (false: the bytes below are the first thing we send). */
  hello: boolean;
  /** Our HELLO's name (default: the case name). */
  helloName?: string;
  /** Raw bytes to send after the HELLO (or instead of it). */
  bytes: Buffer | Buffer[];
  expect: Expectation;
}

export interface CaseResult {
  name: string;
  /** What happened: a GOAWAY code, "open", "ERROR <code>", "closed without GOAWAY", … */
  outcome: string;
  ok: boolean;
}

let nonce = 0x10000;

function describeEnd(p: RawPeer): string {
  if (p.goaway) return p.goaway.code;
  return p.closed ? 'closed without GOAWAY' : 'open';
}

export async function runCase(port: number, index: number, spec: CaseSpec, timeoutMs = 5000): Promise<CaseResult> {
  let peer: RawPeer | undefined;
  try {
    peer = await RawPeer.connect(port, attackerAddress(index));
    await peer.serverHello(timeoutMs);
    if (spec.hello) peer.send({ type: Control.HELLO, kind: Kind.CONTROL, payload: peer.helloPayload(spec.helloName ?? spec.name) });
    for (const b of Array.isArray(spec.bytes) ? spec.bytes : [spec.bytes]) peer.write(b);
    const e = spec.expect;
    if ('goaway' in e) {
      // Where staying open is allowed, a PONG proves it (waiting for the end would only meet the idle deadline).
      if (e.goaway.includes('open')) {
        const pong = await peer.ping(nonce++, timeoutMs);
        if (pong && !peer.goaway) return { name: spec.name, outcome: 'open', ok: true };
      }
      await peer.ending(timeoutMs);
      const outcome = describeEnd(peer);
      return { name: spec.name, outcome, ok: e.goaway.includes(outcome) };
    }
    if ('error' in e) {
      const p = peer;
      await p.until(() => p.frames.some((f) => f.kind === Kind.ERROR && f.id === e.id) || p.goaway !== undefined, timeoutMs);
      const ef = p.frames.find((f) => f.kind === Kind.ERROR && f.id === e.id);
      let code = '';
      try {
        code = ef ? String((packr.unpack(ef.payload) as { code?: unknown }).code) : '';
      } catch {
        code = '<undecodable>';
      }
      const alive = !p.goaway && (await p.ping(nonce++, timeoutMs));
      const outcome = ef ? `ERROR ${code}${alive ? '' : `, then ${describeEnd(p)}`}` : `no ERROR (${describeEnd(p)})`;
      return { name: spec.name, outcome, ok: !!ef && e.error.includes(code) && alive };
    }
    const pong = await peer.ping(nonce++, timeoutMs);
    const outcome = pong && !peer.goaway ? 'open' : describeEnd(peer) === 'open' ? 'open, no PONG' : describeEnd(peer);
    return { name: spec.name, outcome, ok: outcome === 'open' };
  } catch (err) {
    return { name: spec.name, outcome: `error: ${(err as Error).message}`, ok: false };
  } finally {
    peer?.destroy();
  }
}

/** Runs cases `concurrency` at a time. */
export async function runCases(port: number, specs: CaseSpec[], concurrency = 4, timeoutMs = 5000): Promise<CaseResult[]> {
  const out: CaseResult[] = new Array(specs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < specs.length) {
        const i = next++;
        out[i] = await runCase(port, i, specs[i]!, timeoutMs);
      }
    }),
  );
  return out;
}

// The `messageexp` message of the original C++ demo: a nanosecond timestamp and 1..65 uppercase
// characters. Generated deterministically so every variant and repetition sends the same bytes.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Packr, Unpackr } from 'msgpackr';

export const MessageExp = Type.Object({
  ts: Type.BigInt(),
  text: Type.String({ minLength: 1, maxLength: 65, pattern: '^[A-Z]+$' }),
});
export type MessageExp = Static<typeof MessageExp>;

export const checkMessageExp = () => TypeCompiler.Compile(MessageExp);

// Plain msgpack maps (no msgpackr records extension): the bytes any msgpack decoder can read,
// which is what the naive pipeline a user would write produces.
export const makePackr = () => new Packr({ useRecords: false });
export const makeUnpackr = () => new Unpackr({ useRecords: false, int64AsType: 'bigint' });

/** xorshift32: tiny, seedable, good enough to vary text lengths and letters. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

export function makeMessages(n: number, seed = 1): MessageExp[] {
  const rand = rng(seed);
  const base = 1_700_000_000_000_000_000n; // a realistic epoch-ns magnitude: int64 on the wire
  const out: MessageExp[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(rand() * 65);
    let text = '';
    for (let j = 0; j < len; j++) text += String.fromCharCode(65 + Math.floor(rand() * 26));
    out.push({ ts: base + BigInt(i) * 1000n, text });
  }
  return out;
}

/** Pre-encoded frames ([u32 len][msgpack]) concatenated into one buffer of at least
 *  `minBytes`, cycling through `messages`; returns the buffer and how many frames it holds. */
export function encodeBatch(messages: readonly MessageExp[], minBytes: number): { buf: Buffer; frames: number } {
  const packr = makePackr();
  const parts: Buffer[] = [];
  let bytes = 0;
  let frames = 0;
  while (bytes < minBytes) {
    const payload = packr.pack(messages[frames % messages.length]!);
    const f = Buffer.allocUnsafe(4 + payload.length);
    f.writeUInt32LE(payload.length, 0);
    payload.copy(f, 4);
    parts.push(f);
    bytes += f.length;
    frames++;
  }
  return { buf: Buffer.concat(parts, bytes), frames };
}

// The codec comparison shared by codec-bench.ts (standalone) and the suite's `codec` workload
// (vsock-rpc/codec-variants.ts):
// `messageexp` values through the whole vsock-rpc wire path in one process — Codec.encodeMessage
// (outbound check + MessagePack), FrameEncoder (batching), FrameDecoder (framing),
// Codec.decodeMessage (MessagePack + inbound check) — against msgpackr alone (pack + unpack).
import { Packr } from 'msgpackr';
import { Codec, FrameDecoder, FrameEncoder, Kind, type Frame } from '@vsock-rpc/wire';
import { exampleRegistry, type MessageExp } from '@vsock-rpc/wire/examples';

/** The demo's messageexp: an epoch-ns int64 timestamp and 1..65 uppercase letters, deterministic. */
export function makeMessages(n: number, seed = 1): MessageExp[] {
  let x = seed >>> 0 || 1;
  const rand = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
  const base = 1_700_000_000_000_000_000n;
  return Array.from({ length: n }, (_, i) => {
    const len = 1 + Math.floor(rand() * 65);
    let str = '';
    for (let j = 0; j < len; j++) str += String.fromCharCode(65 + Math.floor(rand() * 26));
    return { timestamp: base + BigInt(i) * 1000n, str };
  });
}

export const BATCH = 256; // frames per FrameEncoder.take(): one writev's worth of small events
const messages = makeMessages(4096);

/** One variant: runs `batch()` (BATCH operations) until `seconds` have passed; returns ops/s. */
export interface CodecVariant {
  readonly name: string;
  /** Runs BATCH operations starting at message index `i`; returns a checksum so nothing is dead code. */
  batch(i: number): number;
}

export function wireVariant(): CodecVariant {
  const codec = new Codec(exampleRegistry); // validateOutbound: true (the default)
  const entry = exampleRegistry.message('messageexp');
  const encoder = new FrameEncoder();
  let sum = 0;
  const decoder = new FrameDecoder((f: Frame) => {
    const v = codec.decodeMessage(entry, f.payload) as MessageExp;
    sum += v.str.length;
  });
  return {
    name: 'vsock-rpc wire (Codec + FrameEncoder + FrameDecoder)',
    batch(i) {
      sum = 0;
      for (let k = 0; k < BATCH; k++) encoder.push(Kind.EVENT, entry.id, 0, codec.encodeMessage('messageexp', messages[(i + k) & 4095]!));
      for (const chunk of encoder.take()) decoder.push(chunk);
      return sum;
    },
  };
}

export function msgpackrVariant(): CodecVariant {
  // The same MessagePack rules as the wire (plain maps, 64-bit integers as bigint), no framing, no checks.
  const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });
  return {
    name: 'msgpackr alone (pack + unpack)',
    batch(i) {
      let sum = 0;
      for (let k = 0; k < BATCH; k++) sum += (packr.unpack(packr.pack(messages[(i + k) & 4095]!)) as MessageExp).str.length;
      return sum;
    },
  };
}

export function measure(v: CodecVariant, seconds: number): { opsPerSec: number; ops: number; seconds: number; checksum: number } {
  const limit = BigInt(Math.round(seconds * 1e9));
  let ops = 0;
  let checksum = 0;
  const t0 = process.hrtime.bigint();
  let elapsed: bigint;
  do {
    checksum += v.batch(ops & 4095);
    ops += BATCH;
    elapsed = process.hrtime.bigint() - t0;
  } while (elapsed < limit);
  const s = Number(elapsed) / 1e9;
  return { opsPerSec: ops / s, ops, seconds: s, checksum };
}

/** Correctness guard: the wire path must give back what went in, or the figures mean nothing. */
export function checkRoundTrip(): void {
  const probe = new FrameEncoder();
  const codec = new Codec(exampleRegistry);
  const back: unknown[] = [];
  const dec = new FrameDecoder((f) => back.push(codec.decodeMessage(exampleRegistry.message('messageexp'), f.payload)));
  for (const m of messages.slice(0, 8)) probe.push(Kind.EVENT, 4, 0, codec.encodeMessage('messageexp', m));
  for (const c of probe.take()) dec.push(c);
  const text = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
  if (text(back) !== text(messages.slice(0, 8))) throw new Error('wire round trip does not reproduce its input');
}

// Every variant of the codec workload, vsock-rpc's and its baseline: in-process, no sockets
// (codec-comparison.ts). They run in the suite's own process, one after the other (nothing else
// runs meanwhile); each variant keeps its encoder/decoder across repetitions and warms up (JIT)
// once, before its first measurement.
import { checkRoundTrip, measure, msgpackrVariant, wireVariant, type CodecVariant } from '../codec-comparison.js';
import type { Variant } from '../workload-contract.js';

function inProcess(name: string, description: string, make: () => CodecVariant, baseline: boolean): Variant<'rate'> {
  let v: CodecVariant | undefined;
  return {
    name,
    description,
    ...(baseline ? { baseline } : {}),
    async run(ctx) {
      if (!v) {
        checkRoundTrip();
        v = make();
        measure(v, ctx.quick ? 0.15 : 0.3);
      }
      // yield once so the progress line is out before the CPU-bound loop
      await new Promise((r) => setImmediate(r));
      const m = measure(v, ctx.limits.seconds);
      if (!(m.checksum > 0)) throw new Error('codec: empty checksum (nothing decoded)');
      return { kind: 'rate', value: m.opsPerSec, count: m.ops, seconds: m.seconds };
    },
  };
}

export const codecVariants: ReadonlyArray<Variant<'rate'>> = [
  inProcess(
    'vsock-rpc wire',
    'Codec.encodeMessage (outbound TypeBox check + msgpack) → FrameEncoder (256 frames per batch) → FrameDecoder → Codec.decodeMessage (msgpack + inbound check)',
    wireVariant,
    false,
  ),
  inProcess('msgpackr alone', 'msgpackr pack + unpack of the same objects (same options as the wire), no framing, no checks', msgpackrVariant, true),
];

// Codec micro-benchmark: how many `messageexp` values per second go through the whole
// vsock-rpc wire path in one process — Codec.encodeMessage (outbound check + MessagePack),
// FrameEncoder (batching), FrameDecoder (framing), Codec.decodeMessage (MessagePack + inbound
// check) — next to msgpackr alone (pack + unpack of the same objects), measured in the same run,
// interleaved repetition by repetition so that a noisy shared machine affects both alike.
//
//   node bench/dist/codec-bench.js [--reps 5] [--seconds 1.2] [--json FILE]
//
// Standalone (the variants live in codec-comparison.ts, shared with the suite's `codec` workload).
import { writeFileSync } from 'node:fs';
import { BATCH, checkRoundTrip, measure, msgpackrVariant, wireVariant } from './codec-comparison.js';

interface Options {
  reps: number;
  seconds: number;
  json: string | undefined;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { reps: 5, seconds: 1.2, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') o.json = next();
    else if (a === '--reps') o.reps = Math.max(1, Math.min(20, Number(next()) | 0));
    else if (a === '--seconds') o.seconds = Math.max(0.1, Math.min(5, Number(next())));
    else if (a === '--help' || a === '-h') {
      console.log('usage: codec-bench [--reps N (5)] [--seconds S per repetition and variant (1.2)] [--json FILE]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const wire = wireVariant();
  const mp = msgpackrVariant();

  checkRoundTrip();

  // Warm-up (JIT), not measured.
  measure(wire, 0.3);
  measure(mp, 0.3);

  const runs: Record<'wire' | 'msgpackr', number[]> = { wire: [], msgpackr: [] };
  const ratios: number[] = [];
  for (let r = 0; r < opts.reps; r++) {
    // Alternate which goes first so a slow phase of the machine does not always hit the same one.
    const order = r % 2 === 0 ? (['wire', 'msgpackr'] as const) : (['msgpackr', 'wire'] as const);
    const rep: Partial<Record<'wire' | 'msgpackr', number>> = {};
    for (const which of order) rep[which] = measure(which === 'wire' ? wire : mp, opts.seconds).opsPerSec;
    runs.wire.push(rep.wire!);
    runs.msgpackr.push(rep.msgpackr!);
    ratios.push(rep.wire! / rep.msgpackr!);
    console.error(`rep ${r + 1}/${opts.reps}: wire ${fmt(rep.wire!)} ops/s, msgpackr ${fmt(rep.msgpackr!)} ops/s`);
  }

  const summary = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs });
  const result = {
    benchmark: 'codec',
    message: 'messageexp { timestamp: int64 ns, str: 1..65 uppercase }',
    unit: 'ops/s',
    batch: BATCH,
    repetitions: opts.reps,
    secondsPerRepetition: opts.seconds,
    node: process.version,
    variants: {
      wire: { name: wire.name, ...summary(runs.wire) },
      msgpackr: { name: mp.name, ...summary(runs.msgpackr) },
    },
    // wire / msgpackr: the share of msgpackr's rate the full path keeps (median of per-repetition ratios).
    ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), ofMedians: median(runs.wire) / median(runs.msgpackr) },
  };

  const row = (label: string, s: { median: number; min: number; max: number }) =>
    `${label.padEnd(56)} ${fmt(s.median).padStart(12)} ${fmt(s.min).padStart(12)} ${fmt(s.max).padStart(12)}`;
  console.log(`codec benchmark: messageexp, ${opts.reps} interleaved repetitions of ${opts.seconds} s, ${BATCH} frames per batch, node ${process.version}`);
  console.log(`${'variant'.padEnd(56)} ${'median ops/s'.padStart(12)} ${'min'.padStart(12)} ${'max'.padStart(12)}`);
  console.log(row(wire.name, result.variants.wire));
  console.log(row(mp.name, result.variants.msgpackr));
  console.log(
    `ratio wire / msgpackr: ${result.ratio.median.toFixed(3)} (median of per-repetition ratios; min ${result.ratio.min.toFixed(3)}, max ${result.ratio.max.toFixed(3)})`,
  );
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify(result, null, 2) + '\n');
    console.log(`wrote ${opts.json}`);
  }
}

main();

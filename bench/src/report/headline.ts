// The "Summary" block at the top of REPORT.md, also copied into the root README between the
// bench-summary markers: the headline ratios of vsock-rpc against its baselines, and where it is
// slower than a contender, why. Pure: it works on medians (Facts), so it is tested without runs.
import type { Placement } from '../workload-contract.js';
import { formatFigure, formatRatio } from './format.js';
import type { WorkloadSummary } from './summary.js';

export interface FactRow {
  readonly variant: string;
  readonly placement: Placement;
  /** median of the headline figure; null when every repetition failed */
  readonly median: number | null;
  /** medians of the secondary figures */
  readonly extra: Readonly<Record<string, number>>;
}

export interface WorkloadFacts {
  readonly skipped?: string;
  readonly rows: readonly FactRow[];
}

/** Medians by workload name. */
export type Facts = ReadonlyMap<string, WorkloadFacts>;

export interface SummaryMeta {
  readonly command: string;
  readonly date: string;
  readonly machine: string;
  readonly loadStart: number;
  readonly loadEnd: number;
  readonly quick: boolean;
}

export function factsFrom(summaries: readonly WorkloadSummary[]): Facts {
  const out = new Map<string, WorkloadFacts>();
  for (const s of summaries) {
    out.set(s.result.workload.name, {
      ...(s.result.skipped ? { skipped: s.result.skipped } : {}),
      rows: s.rows.map((r) => ({
        variant: r.variant,
        placement: r.placement,
        median: r.value?.median ?? null,
        extra: Object.fromEntries(Object.entries(r.extra).map(([k, v]) => [k, v.median])),
      })),
    });
  }
  return out;
}

const VR = 'vsock-rpc';
const STREAM = 'vsock-rpc stream';
const SERVER_STREAM = 'vsock-rpc server stream';

function fig(facts: Facts, workload: string, variant: string, placement: Placement = 'unpinned'): FactRow | undefined {
  const r = facts.get(workload)?.rows.find((x) => x.variant === variant && x.placement === placement);
  return r && r.median !== null ? r : undefined;
}

function ratioOf(a: FactRow | undefined, b: FactRow | undefined): number | null {
  if (!a || !b || a.median === null || b.median === null || b.median === 0) return null;
  return a.median / b.median;
}

/** "1.23× naive pipeline" with the direction said in words when it matters. */
const times = (r: number | null, what: string): string => (r === null ? `— (no ${what} figure)` : `${formatRatio(r)} ${what}`);

/** Differences within this fraction are noise on a shared machine, not "slower". */
export const NOISE = 0.05;
const lower = (r: number | null): boolean => r !== null && r < 1 - NOISE;
const higher = (r: number | null): boolean => r !== null && r > 1 + NOISE;

/** A comparison where vsock-rpc came out behind, with the reason. */
interface Slower {
  readonly text: string;
}

export function renderSummary(facts: Facts, meta: SummaryMeta): string {
  const lines: string[] = [];
  const slower: Slower[] = [];
  const behind = (cond: boolean, text: string): void => {
    if (cond) slower.push({ text });
  };

  // events
  const ev = fig(facts, 'events', VR);
  if (ev) {
    const naive = ratioOf(ev, fig(facts, 'events', 'naive pipeline'));
    const raw = ratioOf(ev, fig(facts, 'events', 'raw socket'));
    const grpc = ratioOf(ev, fig(facts, 'events', 'grpc-js'));
    const mb = ev.extra['MB/s'];
    lines.push(
      `- **Events** (one-way messageexp, encoded + framed + sent + decoded + validated): ${formatFigure(ev.median!)} events/s${mb ? ` (${formatFigure(mb)} MB/s)` : ''} = ` +
        `${times(naive, 'the naive msgpackr pipeline')}, ${times(raw, 'the raw-socket ceiling')}, ${times(grpc, 'grpc-js client streaming')}.`,
    );
    behind(
      lower(raw),
      `events vs the raw socket (${formatRatio(raw)}): the raw baseline writes pre-encoded frames and only splits them at the receiver; vsock-rpc encodes and schema-checks each event at the sender, decodes, validates and dispatches each one to a handler at the receiver.`,
    );
    behind(
      lower(naive),
      `events vs the naive pipeline (${formatRatio(naive)}): both encode and validate every event, but vsock-rpc also checks the schema at the sender, queues each event through its bounded queue and calls a handler per event.`,
    );
    behind(lower(grpc), `events vs grpc-js (${formatRatio(grpc)}).`);
  } else lines.push(`- **Events**: ${missing(facts, 'events')}`);

  // latency
  const lat: string[] = [];
  for (const p of ['same-cpu', 'across-cpus', 'unpinned'] as const) {
    const v = fig(facts, 'latency', VR, p);
    if (!v) continue;
    const raw = ratioOf(v, fig(facts, 'latency', 'raw socket', p));
    const grpc = ratioOf(v, fig(facts, 'latency', 'grpc-js', p));
    lat.push(`${placeName[p]} ${formatFigure(v.median!)} µs = ${times(raw, "raw ping-pong's")}, ${times(grpc, "grpc-js's")}`);
    behind(
      higher(raw),
      `call latency vs raw ping-pong, ${placeName[p]} (${formatRatio(raw)} its p50): the raw peer echoes pre-encoded bytes; a vsock-rpc call is schema-checked and msgpack-coded on both sides, both ways, tracked as a pending call with its own promise and matched to its reply by id; each side's frame leaves at the end of its tick (process.nextTick), so calls made together share a write.`,
    );
    behind(higher(grpc), `call latency vs grpc-js, ${placeName[p]} (${formatRatio(grpc)} its p50).`);
  }
  lines.push(
    lat.length > 0 ? `- **Call latency p50** (sequential echo calls; lower is better): ${lat.join('; ')}.` : `- **Call latency**: ${missing(facts, 'latency')}`,
  );

  // concurrent
  const cc = fig(facts, 'concurrent', VR);
  if (cc) {
    const grpc = ratioOf(cc, fig(facts, 'concurrent', 'grpc-js'));
    const raw = ratioOf(cc, fig(facts, 'concurrent', 'raw socket'));
    lines.push(`- **64 calls in flight**: ${formatFigure(cc.median!)} calls/s = ${times(grpc, 'grpc-js')} (${times(raw, 'raw pipelined echo')}).`);
    behind(
      lower(raw),
      `64 calls in flight vs raw pipelined echo (${formatRatio(raw)}): the raw peer moves pre-encoded bytes; vsock-rpc encodes, validates and matches every request and response to its call.`,
    );
    behind(lower(grpc), `64 calls in flight vs grpc-js (${formatRatio(grpc)}).`);
  } else lines.push(`- **64 calls in flight**: ${missing(facts, 'concurrent')}`);

  // bandwidth
  const bw: string[] = [];
  for (const [name, label] of [
    ['bandwidth-64k', '64 KiB'],
    ['bandwidth-1m', '1 MiB'],
  ] as const) {
    const v = fig(facts, name, VR);
    if (!v) continue;
    const raw = ratioOf(v, fig(facts, name, 'raw socket'));
    bw.push(`${label} messages ${formatFigure(v.median!)} MB/s = ${times(raw, 'the raw socket')}`);
    behind(
      lower(raw),
      `bandwidth with ${label} messages vs the raw socket (${formatRatio(raw)}): the blob leaves from the caller's buffer as the frame's body (no copy at the sender, PROTOCOL.md §12), but the receiver copies it once out of the socket's 64 KiB read buffers into a fresh buffer of its own (the handler's Uint8Array, which the GC must reclaim), decodes and validates the event, and each side does a JS turn per frame; the two processes take turns on the socket, so neither is busy all the time (receiver ~60% of a CPU, sender ~40%, measured with process.cpuUsage); the raw peer counts bytes without touching them.`,
    );
  }
  lines.push(bw.length > 0 ? `- **Bandwidth**: ${bw.join('; ')}.` : `- **Bandwidth**: ${missing(facts, 'bandwidth-64k')}`);

  // streams (PROTOCOL.md §11): one stream of chunks, against the raw socket and the same chunks as events
  const st: string[] = [];
  for (const [name, label] of [
    ['stream-64k', '64 KiB'],
    ['stream-1m', '1 MiB'],
  ] as const) {
    const v = fig(facts, name, STREAM);
    if (!v) continue;
    const raw = ratioOf(v, fig(facts, name, 'raw socket'));
    const events = ratioOf(v, fig(facts, name, VR));
    st.push(`${label} chunks ${formatFigure(v.median!)} MB/s = ${times(raw, 'the raw socket')}, ${times(events, 'the same chunks as events')}`);
    behind(
      lower(raw),
      `a stream of ${label} chunks vs the raw socket (${formatRatio(raw)}): each chunk leaves from the caller's buffer as a DATA frame's body (PROTOCOL.md §12), is copied once into a buffer of its own at the receiver, schema-checked at both ends, and handed over through an async iterator (a promise per chunk at each end); the raw peer counts bytes without touching them.`,
    );
    behind(
      lower(events),
      `a stream of ${label} chunks vs the same chunks as events (${formatRatio(events)}): both travel as bodies, but each stream write is awaited (a promise per chunk, resolved from the credit check), the reader takes chunks through an async iterator one promise at a time, and the receiver sends WINDOW frames back as it consumes; events are written back to back and dispatched to a plain handler.`,
    );
  }
  lines.push(
    st.length > 0
      ? `- **Streams** (one client stream, credit-based flow control): ${st.join('; ')}.`
      : `- **Streams**: ${missing(facts, 'stream-64k', STREAM)}`,
  );

  // server streaming vs grpc-js
  const ss = fig(facts, 'server-stream-64k', SERVER_STREAM);
  if (ss) {
    const grpc = ratioOf(ss, fig(facts, 'server-stream-64k', 'grpc-js'));
    const raw = ratioOf(ss, fig(facts, 'server-stream-64k', 'raw socket'));
    lines.push(
      `- **Server streaming, 64 KiB chunks**: ${formatFigure(ss.median!)} MB/s = ${times(grpc, 'grpc-js server streaming')} (${times(raw, 'the raw socket')}).`,
    );
    behind(
      lower(raw),
      `server streaming vs the raw socket (${formatRatio(raw)}): as for a client stream, each chunk travels as a body (copied once, at the receiver), is validated at both ends, and crosses an awaited write and an async iterator, per chunk.`,
    );
    behind(
      lower(grpc),
      `server streaming vs grpc-js (${formatRatio(grpc)}): grpc-js hands protobuf bytes to HTTP/2 without a schema check and reads with 'data' events; vsock-rpc validates each chunk at both ends and awaits each write and each read.`,
    );
  } else lines.push(`- **Server streaming**: ${missing(facts, 'server-stream-64k', SERVER_STREAM)}`);

  // a stream whose consumer is 10× slower than its producer
  const sm = fig(facts, 'stream-memory', STREAM);
  if (sm) {
    const growth = sm.extra['RSS growth 2nd half MiB'];
    const flat = isFlat(growth);
    const offered = sm.extra['offered /s'];
    const written = sm.extra['written /s'];
    const consumed = sm.extra['consumed /s'];
    const pausedPct = sm.extra['producer paused %'];
    const paused = isPaused(written, consumed, offered);
    lines.push(
      `- **Stream with a 10× slower consumer**: consumer RSS flat: **${flat ? 'yes' : 'no'}**${!flat && meta.quick ? ' (a quick run is too short for the heap to reach its working size; the full run decides)' : ''} ` +
        `(peak ${formatFigure(sm.median!)} MiB, growth over the second half ${signed(growth)} MiB); producer paused: **${paused ? 'yes' : 'no'}** ` +
        `(wrote ${rate(written)} chunks/s of the ${rate(offered)} it offered, the consumer took ${rate(consumed)}; ${pausedPct === undefined ? '—' : `${pausedPct.toFixed(0)}%`} of the time waiting in write() for credit).`,
    );
    behind(!flat && !meta.quick, `slow-consumer stream: the consumer's RSS grew by ${signed(growth)} MiB over the second half of the run.`);
    behind(!paused, `slow-consumer stream: the producer was not held to the consumer's rate (wrote ${rate(written)}/s, consumed ${rate(consumed)}/s).`);
  } else lines.push(`- **Stream with a slow consumer**: ${missing(facts, 'stream-memory', STREAM)}`);

  // clock
  const cs = fig(facts, 'clock', 'vsock-rpc ClockSync');
  const single = fig(facts, 'clock', 'single exchange');
  if (cs && single) {
    const idle = (r: FactRow) => r.extra['idle p99 µs'];
    const idleRatio = idle(cs) && idle(single) ? idle(single)! / idle(cs)! : null;
    const loadRatio = cs.median! > 0 ? single.median! / cs.median! : null;
    const rate = cs.extra['load events/s'];
    lines.push(
      `- **Clock offset p99 |error|**: idle ${us(idle(cs))} (single exchange ${us(idle(single))}${idleRatio ? `, ${formatRatio(idleRatio)} smaller` : ''}); ` +
        `under load${rate ? ` (${formatFigure(rate)} events/s on the same connection)` : ''} ${us(cs.median!)} (single exchange ${us(single.median!)}${loadRatio ? `, ${formatRatio(loadRatio)} smaller` : ''}).`,
    );
    behind(lower(loadRatio), `clock p99 under load vs a single exchange (${formatRatio(loadRatio)}).`);
  } else lines.push(`- **Clock**: ${missing(facts, 'clock')}`);

  // memory
  const mem = fig(facts, 'memory', 'vsock-rpc, bounded');
  if (mem) {
    const growth = mem.extra['RSS growth 2nd half MiB'];
    const flat = isFlat(growth);
    const dropped = mem.extra['dropped'];
    const sent = mem.extra['events sent'];
    const raw = fig(facts, 'memory', 'raw socket, unbounded');
    const rawGrowth = raw?.extra['RSS growth 2nd half MiB'];
    lines.push(
      `- **Memory under overload** (fed 2× faster than it consumes): server RSS flat: **${flat ? 'yes' : 'no'}**${!flat && meta.quick ? ' (a quick run is too short for the heap to reach its working size; the full run decides)' : ''} ` +
        `(peak ${formatFigure(mem.median!)} MiB, growth over the second half ${signed(growth)} MiB); ` +
        `${dropped !== undefined ? `${formatFigure(dropped)} events dropped by the client's drop-oldest queue and counted${sent ? ` (${((100 * dropped) / sent).toFixed(0)}% of ${formatFigure(sent)} sent)` : ''}` : 'drops not reported'}` +
        `${raw ? `; the unbounded raw server peaked at ${formatFigure(raw.median!)} MiB${rawGrowth !== undefined ? `, growing ${signed(rawGrowth)} MiB over its second half` : ''}` : ''}.`,
    );
    behind(!flat && !meta.quick, `memory: the bounded server's RSS grew by ${signed(growth)} MiB over the second half of the run.`);
  } else lines.push(`- **Memory under overload**: ${missing(facts, 'memory')}`);

  // codec
  const codec = fig(facts, 'codec', 'vsock-rpc wire');
  if (codec) {
    const r = ratioOf(codec, fig(facts, 'codec', 'msgpackr alone'));
    lines.push(`- **Codec + framing** (in one process): ${formatFigure(codec.median!)} messages/s = ${times(r, 'msgpackr alone')}.`);
    behind(
      lower(r),
      `codec vs msgpackr alone (${formatRatio(r)}): the wire path adds a compiled TypeBox check on each side and the framing (header, batching, splitting) that msgpackr alone does not do.`,
    );
  }

  // vsock
  const vs = facts.get('vsock');
  if (vs?.skipped) lines.push(`- **vsock (QEMU guest)**: skipped: ${vs.skipped}.`);
  else {
    const pairs: string[] = [];
    for (const label of ['default buffers', '1 MiB buffers']) {
      const n = fig(facts, 'vsock', `Node, ${label}`);
      const c = fig(facts, 'vsock', `C, ${label}`);
      const r = ratioOf(n, c);
      if (n && c) pairs.push(`${label}: Node ${formatFigure(n.median!)} MB/s vs C ${formatFigure(c.median!)} MB/s = ${formatRatio(r)}`);
      behind(
        lower(r),
        `vsock echo, Node vs C with ${label} (${formatRatio(r)}): Node's stream layer adds a callback, a Buffer and a JS event-loop turn per read, where the C program blocks in read()/write() on dedicated threads.`,
      );
    }
    lines.push(pairs.length > 0 ? `- **vsock loopback echo in the QEMU guest, Node ÷ C**: ${pairs.join('; ')}.` : `- **vsock**: ${missing(facts, 'vsock')}`);
  }

  const out = [
    `Measured by \`${meta.command}\` on ${meta.machine}, ${meta.date.slice(0, 10)}; load average ${meta.loadStart.toFixed(2)} → ${meta.loadEnd.toFixed(2)}` +
      `${meta.loadStart > 1 || meta.loadEnd > 1 ? ' (a busy shared machine: absolute figures are noisy, ratios measured in the same run hold better)' : ''}.` +
      `${meta.quick ? ' **Quick run**: short measurements, for checking only.' : ''} Ratios are vsock-rpc's median ÷ the other's median, same run, same placement.`,
    '',
    ...lines,
  ];
  if (slower.length > 0) {
    out.push('', `Where vsock-rpc is slower (by more than ${NOISE * 100}%, the noise of a shared machine):`, '', ...slower.map((s) => `- ${s.text}`));
  }
  return out.join('\n');
}

const placeName: Record<Placement, string> = { 'same-cpu': 'same CPU', 'across-cpus': 'across CPUs', unpinned: 'unpinned' };

/** Flat: the median of the last quarter within 5 MiB of the second quarter's. */
export const FLAT_MIB = 5;
export function isFlat(growth: number | undefined): boolean {
  return growth !== undefined && Number.isFinite(growth) && growth <= FLAT_MIB;
}

/** Paused: the producer wrote at most 10% above what the consumer took, well below what it offered. */
export function isPaused(written: number | undefined, consumed: number | undefined, offered: number | undefined): boolean {
  if (written === undefined || consumed === undefined || offered === undefined || !(consumed > 0)) return false;
  return written <= 1.1 * consumed && written < 0.5 * offered;
}

const rate = (v: number | undefined): string => (v === undefined ? '—' : formatFigure(v));
const us = (v: number | undefined): string => (v === undefined ? '—' : `${formatFigure(v)} µs`);
const signed = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : `${v >= 0 ? '+' : '−'}${formatFigure(Math.abs(v))}`);

function missing(facts: Facts, workload: string, variant = VR): string {
  const f = facts.get(workload);
  if (!f) return 'not run (excluded by --only).';
  if (f.skipped) return `skipped: ${f.skipped}.`;
  return `no ${variant} figure (its runs failed; see the workload below).`;
}

// ---- the README block ----

export const README_START = '<!-- bench-summary:start -->';
export const README_END = '<!-- bench-summary:end -->';

/** Replaces the text between the markers (kept) with `block`; throws when they are missing or out of order. */
export function replaceBetweenMarkers(text: string, block: string, start = README_START, end = README_END): string {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < 0) throw new Error(`markers ${start} … ${end} not found`);
  if (b < a) throw new Error(`${end} comes before ${start}`);
  if (text.indexOf(start, a + 1) >= 0 || text.indexOf(end, b + 1) >= 0) throw new Error('the markers appear more than once');
  return `${text.slice(0, a + start.length)}\n${block.trim()}\n${text.slice(b)}`;
}

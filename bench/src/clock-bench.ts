// Clock-offset accuracy, idle and under load (issue 4).
//
//   node bench/dist/clock-bench.js [--quick] [--json FILE] [--svg FILE] [--syncs N] [--samples N] [--rate N]
//
// Two processes (peers/clock-peer.js, forked) over a unix socket. The server engine's clock is
// shifted by exactly +5 s (clockSkewNs), so with both on the same CLOCK_MONOTONIC the true
// offset (client − server) is −5 s to the nanosecond, and every estimate's error is known.
// Three series, measured in the same run:
//   (a) idle: bursts, minimum-delay sample kept: the engine's ClockSync.sync() (adaptive burst of
//       8 to 32) and syncClock() with a fixed burst of 8;
//   (b) loaded: the same while the client streams 100 000 messageexp events/s to the server on
//       the same connection (paced in 1 ms slices);
//   (c) loaded: the original's method, one exchange taken as is.
// In each phase the methods are interleaved, in rotating order, so that they see the same
// conditions; ClockSync's model (its `offset` getter right after each sync) is reported too.
// This parent only orchestrates and reports; it measures nothing itself.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClockClientParams, ClockClientResult, ClockPhase, ClockPoint, ClockServerParams, ClockServerResult } from './peers/clock-peer.js';
import type { FromPeer, PeerRoleName, ToPeer } from './peers/protocol.js';

const SKEW_NS = 5_000_000_000n;
const TARGET_IDLE_P99_US = 10;
const TARGET_LOAD_P99_US = 50;

interface Args {
  quick: boolean;
  json: string | null;
  svg: string | null;
  syncs: number;
  samples: number;
  rate: number;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { quick: false, json: null, svg: null, syncs: 0, samples: 8, rate: 100_000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--quick') a.quick = true;
    else if (k === '--json') a.json = value();
    else if (k === '--svg') a.svg = value();
    else if (k === '--syncs') a.syncs = Number(value());
    else if (k === '--samples') a.samples = Number(value());
    else if (k === '--rate') a.rate = Number(value());
    else throw new Error(`unknown argument ${k}\nusage: node bench/dist/clock-bench.js [--quick] [--json FILE] [--svg FILE] [--syncs N] [--samples N] [--rate N]`);
  }
  if (a.syncs <= 0) a.syncs = a.quick ? 200 : 1000;
  return a;
}

// ---- the two peers ----

interface Peer {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly result: Promise<unknown>;
}

const peerScript = fileURLToPath(new URL('./peers/clock-peer.js', import.meta.url));

function startPeer(role: PeerRoleName, socketPath: string, tmpDir: string, params: object): Peer {
  const child = fork(peerScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let onReady = (): void => {};
  let onResult = (_: unknown): void => {};
  let onFail = (_: Error): void => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    child.once('exit', () => reject(new Error(`${role} exited before it was ready`)));
  });
  const result = new Promise<unknown>((resolve, reject) => {
    onResult = resolve;
    onFail = reject;
  });
  ready.catch(() => {});
  result.catch(() => {});
  child.on('message', (raw: unknown) => {
    const m = raw as FromPeer;
    if (m.type === 'ready') onReady();
    else if (m.type === 'result') onResult(m.result);
    else onFail(new Error(`${role} failed: ${m.message}${m.stack ? `\n${m.stack}` : ''}`));
  });
  child.once('exit', (code, signal) => onFail(new Error(`${role} exited (${signal ?? `code ${code}`}) without a result`)));
  const start: ToPeer = { type: 'start', impl: 'clock', role, socketPath, tmpDir, params: params as Record<string, unknown> };
  child.send(start);
  return { child, ready, result };
}

// ---- statistics ----

interface Row {
  readonly name: string;
  readonly syncs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  /** median delay of the kept exchange, µs */
  readonly delayP50Us: number;
  readonly delayP99Us: number;
  /** exchanges per sync (mean) */
  readonly exchanges: number;
  /** fraction of estimates whose |error| is within their own error bound (should be 1) */
  readonly withinBound: number;
  readonly targetP99Us: number | null;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  // nearest rank: an actual observation, never an interpolation between two
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function row(name: string, points: readonly ClockPoint[], targetP99Us: number | null, exchanges: number): Row {
  const errs = points.map((p) => Math.abs(p.errorNs) / 1000).sort((a, b) => a - b);
  const delays = points.filter((p) => p.delayNs > 0).map((p) => p.delayNs / 1000).sort((a, b) => a - b);
  return {
    name,
    syncs: points.length,
    p50Us: quantile(errs, 0.5),
    p99Us: quantile(errs, 0.99),
    maxUs: errs[errs.length - 1] ?? NaN,
    delayP50Us: quantile(delays, 0.5),
    delayP99Us: quantile(delays, 0.99),
    exchanges,
    withinBound: points.filter((p) => Math.abs(p.errorNs) <= p.boundNs).length / Math.max(1, points.length),
    targetP99Us,
  };
}

const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

function table(rows: readonly Row[]): string {
  const head = ['method', 'syncs', 'exch/sync', '|err| p50 µs', 'p99 µs', 'max µs', 'delay p50 µs', 'delay p99 µs', 'within bound', 'target p99'];
  const body = rows.map((r) => [
    r.name,
    String(r.syncs),
    r.exchanges.toFixed(1),
    fmt(r.p50Us),
    fmt(r.p99Us),
    fmt(r.maxUs),
    Number.isNaN(r.delayP50Us) ? '—' : fmt(r.delayP50Us),
    Number.isNaN(r.delayP99Us) ? '—' : fmt(r.delayP99Us),
    `${(r.withinBound * 100).toFixed(1)}%`,
    r.targetP99Us === null ? '—' : `≤ ${r.targetP99Us} ${r.p99Us <= r.targetP99Us ? 'met' : 'MISSED'}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

// ---- SVG: |error| over time, log scale, one polyline per method ----

function svgPlot(series: ReadonlyArray<{ label: string; color: string; points: readonly ClockPoint[] }>, subtitle: string): string {
  const W = 820;
  const H = 460;
  const m = { l: 70, r: 20, t: 50, b: 90 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p.tMs / 1000));
  // |error| can be 0 ns: clamp to the bottom of the axis (0.1 µs) so log10 stays finite
  const yOf = (p: ClockPoint) => Math.max(0.1, Math.abs(p.errorNs) / 1000);
  const yMaxDecade = Math.max(2, Math.ceil(Math.log10(Math.max(...all.map(yOf)))));
  const yMinDecade = -1;
  const x = (s: number) => m.l + (s / xMax) * pw;
  const y = (us: number) => m.t + ph - ((Math.log10(us) - yMinDecade) / (yMaxDecade - yMinDecade)) * ph;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${m.l}" y="22" font-size="16" font-weight="bold">Clock offset error over time (true offset −5 s)</text>`);
  out.push(`<text x="${m.l}" y="40" fill="#555">${esc(subtitle)}</text>`);
  for (let d = yMinDecade; d <= yMaxDecade; d++) {
    const us = 10 ** d;
    const label = us >= 1000 ? `${us / 1000} ms` : `${us} µs`;
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(us).toFixed(1)}" y2="${y(us).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${(y(us) + 4).toFixed(1)}" text-anchor="end">${label}</text>`);
  }
  for (const [us, label] of [[TARGET_IDLE_P99_US, 'idle target'], [TARGET_LOAD_P99_US, 'load target']] as const) {
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(us).toFixed(1)}" y2="${y(us).toFixed(1)}" stroke="#999" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${m.l + pw - 4}" y="${(y(us) - 4).toFixed(1)}" text-anchor="end" fill="#777">${label} p99 ≤ ${us} µs</text>`);
  }
  const step = xMax > 8 ? 2 : xMax > 4 ? 1 : 0.5;
  for (let s = 0; s <= xMax + 1e-9; s += step) {
    out.push(`<line x1="${x(s).toFixed(1)}" x2="${x(s).toFixed(1)}" y1="${m.t + ph}" y2="${m.t + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${x(s).toFixed(1)}" y="${m.t + ph + 18}" text-anchor="middle">${s}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 36}" text-anchor="middle">seconds since the phase began</text>`);
  out.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">|estimated − true offset| (log)</text>`);
  series.forEach((s, i) => {
    const pts = s.points.map((p) => `${x(p.tMs / 1000).toFixed(1)},${y(yOf(p)).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="1.2" stroke-opacity="0.85" stroke-linejoin="round"/>`);
    const lx = m.l + i * 250;
    const ly = H - 22;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

// ---- main ----

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'clock-bench-'));
  const socketPath = path.join(tmpDir, 'clock.sock');
  const loadStart = os.loadavg()[0] ?? 0;
  const started = Date.now();
  let srv: Peer | undefined;
  let cli: Peer | undefined;
  try {
    const serverParams: ClockServerParams = { skewNs: SKEW_NS.toString() };
    srv = startPeer('server', socketPath, tmpDir, serverParams);
    await srv.ready;
    const clientParams: ClockClientParams = {
      trueOffsetNs: (-SKEW_NS).toString(),
      syncs: args.syncs,
      samples: args.samples,
      rate: args.rate,
      gapMs: 5,
      warmup: args.quick ? 150 : 300,
    };
    process.stderr.write(`clock-bench: ${args.syncs} syncs per phase, bursts of ${args.samples}, load ${args.rate} events/s…\n`);
    cli = startPeer('client', socketPath, tmpDir, clientParams);
    const c = (await Promise.race([cli.result, srv.result.then(() => Promise.reject(new Error('server ended first')))])) as ClockClientResult;
    srv.child.send({ type: 'stop' } satisfies ToPeer);
    const s = (await srv.result) as ClockServerResult;
    const loadEnd = os.loadavg()[0] ?? 0;

    const mean = (a: readonly number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
    const phaseRows = (name: string, ph: ClockPhase, target: number | null) => [
      row(`${name}, burst ${args.samples}–${4 * args.samples} adaptive (ClockSync)`, ph.adaptive, target, mean(ph.adaptiveSamples)),
      row(`${name}, burst of ${args.samples} fixed (syncClock)`, ph.fixed, target, args.samples),
      row(`${name}, ClockSync model after sync`, ph.model, null, mean(ph.adaptiveSamples)),
      row(`${name}, single exchange (original)`, ph.single, null, 1),
    ];
    const rows = [...phaseRows('idle', c.idle, TARGET_IDLE_P99_US), ...phaseRows('load', c.load, TARGET_LOAD_P99_US)];
    const achieved = c.eventsSent / c.loadSeconds;
    const cpu = os.cpus();
    const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, ${process.version}, load avg ${loadStart.toFixed(2)} → ${loadEnd.toFixed(2)}`;
    const loadLine = `load: ${c.eventsSent} messageexp events in ${c.loadSeconds.toFixed(1)} s = ${Math.round(achieved)} /s sent (target ${args.rate}), ${c.eventsDropped} dropped, ${c.eventsHandled} handled by the server, its backlog at the end ${c.backlogMs.toFixed(0)} ms, ${c.lateSlices} slices over 10 ms late (${c.eventsSkipped} events skipped)`;
    process.stdout.write(`\nClock offset error |estimated − true| (true offset −5 s exactly; server skewed by clockSkewNs)\n${machine}\n${loadLine}\n\n${table(rows)}\n\n`);

    if (args.json) {
      const json = {
        benchmark: 'clock',
        command: `node bench/dist/clock-bench.js ${process.argv.slice(2).join(' ')}`.trim(),
        date: new Date(started).toISOString(),
        machine: { cpus: cpu.length, model: cpu[0]?.model.trim(), node: process.version, loadStart, loadEnd },
        params: { ...clientParams, skewNs: SKEW_NS.toString() },
        load: { sent: c.eventsSent, handled: c.eventsHandled, backlogMs: c.backlogMs, received: s.eventsReceived, dropped: c.eventsDropped, seconds: c.loadSeconds, perSecond: achieved, lateSlices: c.lateSlices, skipped: c.eventsSkipped },
        rows,
        series: { idle: c.idle, load: c.load },
      };
      writeFileSync(args.json, JSON.stringify(json, null, 2) + '\n');
      process.stdout.write(`wrote ${args.json}\n`);
    }
    if (args.svg) {
      writeFileSync(
        args.svg,
        svgPlot(
          [
            { label: 'load, single exchange (original)', color: '#D55E00', points: c.load.single },
            { label: 'load, burst (ClockSync, adaptive)', color: '#0072B2', points: c.load.adaptive },
            { label: 'idle, burst (ClockSync, adaptive)', color: '#009E73', points: c.idle.adaptive },
          ],
          `${machine}; ${Math.round(achieved)} events/s during load`,
        ),
      );
      process.stdout.write(`wrote ${args.svg}\n`);
    }
  } finally {
    for (const p of [cli, srv]) if (p && p.child.exitCode === null) p.child.kill();
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`clock-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});

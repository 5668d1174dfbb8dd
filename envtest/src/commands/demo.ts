/**
 * `envtest demo`: the whole picture on one machine, no VM — a server and K clients over a unix
 * socket in a temp dir, with the merged timeline and a status line every second on the terminal.
 * The clients run as separate processes (as guests are), each with its clock shifted by a
 * different number of seconds, so the conversion to the host clock is visible in the output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandSpec } from '../args.js';
import { EnvtestError } from '../errors.js';
import { checkOutputPath } from '../output-paths.js';
import { formatNs } from '../status.js';
import type { Summary } from '../summary.js';
import { escapeText } from '@vsock-rpc/wire';
import { runServer } from './server.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  clients: number;
  durationS: number;
  /** Events per second per source. */
  rate: number;
  exportPath?: string;
  summaryPath?: string;
  signal?: AbortSignal;
  /** Where the timeline and status lines go (default stdout). */
  out?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The command line of `envtest demo`. */
export const demoSpec: CommandSpec = {
  name: 'demo',
  summary: 'A server and K clients on this machine over a unix socket: a live merged timeline.',
  description: [
    'Clients run as separate processes with clocks skewed by +1 s, -2 s, +3 s, ...: the timeline is',
    'still in host order, because each client converts its timestamps with its clock-sync estimate.',
    'Lines: <host_ns> <source> <text>; every second a status line (events/s per source, late,',
    "dropped, each guest's clock offset ± error bound). Works anywhere: no VM, no vsock needed.",
  ].join('\n'),
  options: {
    clients: { type: 'string', value: 'K', help: 'number of clients (default 3)' },
    duration: { type: 'string', value: 'S', help: 'seconds to run (default 10)' },
    rate: { type: 'string', value: 'R', help: 'events per second per source, host included (default 20)' },
    export: { type: 'string', value: 'FILE', help: 'also write the timeline: FILE.json → Perfetto, else JSON Lines' },
    summary: { type: 'string', value: 'FILE', help: "write the server's JSON summary on exit" },
  },
  examples: ['envtest demo', 'envtest demo --clients 2 --duration 5 --export /tmp/demo.json   # open in ui.perfetto.dev'],
};

/** The skew of client i: +1 s, -2 s, +3 s, -4 s, ... */
export function demoSkewNs(i: number): bigint {
  const s = BigInt(i + 1) * 1_000_000_000n;
  return i % 2 === 0 ? s : -s;
}

/** Runs the demo; resolves with the server's summary. */
export async function runDemo(opts: DemoOptions): Promise<Summary> {
  const out = opts.out ?? process.stdout;
  const say = (line: string) => out.write(line + '\n');
  const color = out.isTTY === true && process.env['NO_COLOR'] === undefined;
  const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);
  if (opts.exportPath !== undefined) await checkOutputPath('export', opts.exportPath, 'demo');
  if (opts.summaryPath !== undefined) await checkOutputPath('summary', opts.summaryPath, 'demo');
  const dir = await mkdtemp(join(tmpdir(), 'envtest-demo-'));
  const address = `unix://${join(dir, 'envtest.sock')}`;
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
  const stopServer = new AbortController();
  const children: ChildProcess[] = [];
  const onAbort = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
    stopServer.abort();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const skews = Array.from({ length: opts.clients }, (_, i) => demoSkewNs(i));
    say(dim(`envtest demo: server + ${opts.clients} client(s) over ${address}, ${opts.durationS} s, ${opts.rate} events/s per source`));
    say(dim(`guest clocks skewed by ${skews.map((s) => formatNs(s, true)).join(', ')}; lines are <host_ns> <source> <text>; ctrl-C stops`));
    const server = runServer({
      listen: address,
      rate: opts.rate,
      durationS: 0,
      latenessNs: 500_000_000n,
      startupHoldNs: 0n, // server and clients start together: no guest has anything to resend
      console: true,
      color,
      statusMs: 1000,
      log: say,
      signal: stopServer.signal,
      ...(opts.exportPath !== undefined ? { exportPath: opts.exportPath } : {}),
      ...(opts.summaryPath !== undefined ? { summaryPath: opts.summaryPath } : {}),
      onListening: () => {
        for (let i = 0; i < opts.clients; i++) {
          const name = `guest-${i + 1}`;
          const child = spawn(
            process.execPath,
            [
              cli,
              'client',
              '--connect',
              address,
              '--name',
              name,
              '--duration',
              String(opts.durationS),
              '--rate',
              String(opts.rate),
              `--clock-skew-ns=${skews[i]!}`,
            ],
            { stdio: ['ignore', 'ignore', 'pipe'] },
          );
          child.stderr!.setEncoding('utf8');
          child.stderr!.on('data', (text: string) => {
            for (const l of text.split('\n')) if (l.trim()) say(`[${name}] ${l}`);
          });
          children.push(child);
        }
        // The server stops once every client has flushed and left (or on ctrl-C).
        void Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r))))).then(() =>
          setTimeout(() => stopServer.abort(), 200),
        );
      },
    });
    const summary = await server;
    const failed = children.filter((c) => c.exitCode !== 0 && c.exitCode !== null);
    say(
      dim(
        `demo done: ${summary.events.total} events (${Object.entries(summary.events.bySource)
          .map(([s, n]) => `${escapeText(s)} ${n}`)
          .join(', ')}) in ${summary.durationS} s, late ${summary.late}, dropped ${summary.dropped}`,
      ),
    );
    for (const [g, c] of Object.entries(summary.clock))
      say(dim(`  ${escapeText(g)}: offset ${formatNs(BigInt(c.offsetNs), true)} ± ${formatNs(BigInt(c.errorBoundNs))}, drift ${c.driftPpm} ppm`));
    if (opts.exportPath !== undefined) {
      const kind = opts.exportPath.endsWith('.json') ? 'Perfetto trace JSON: open it in https://ui.perfetto.dev' : 'JSON Lines';
      say(dim(`  timeline written to ${resolve(opts.exportPath)}: ${String(summary.details['exported'])} events (${kind})`));
    }
    if (failed.length)
      throw new EnvtestError('ERR_ENVTEST_CLIENTS_FAILED', `${failed.length} client(s) failed (exit codes ${failed.map((c) => c.exitCode).join(', ')})`);
    return summary;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

#!/usr/bin/env node
/**
 * The `envtest` command: `envtest server`, `envtest client`, `envtest demo`. Parses the command
 * line, wires SIGINT/SIGTERM to a clean shutdown, sets the exit code (0 ok, 1 failure, 2 usage
 * or --ftrace setup).
 */
import { addressOpt, bigintOpt, cidListOpt, helpText, hostPortOpt, numberOpt, parseCommand, stringOpt, UsageError, type CommandSpec } from './args.js';
import { clientSpec, defaultClientName, DEFAULT_CONNECT, runClient } from './commands/client.js';
import { demoSpec, runDemo } from './commands/demo.js';
import { DEFAULT_LISTEN, runServer, serverSpec } from './commands/server.js';
import { hostLimitsFromArgs } from './host-limits.js';
import { formatAddress } from '@vsock-rpc/vsock';
import { DEFAULT_LEGACY_CONNECT, DEFAULT_LEGACY_LISTEN, wireOpt } from './wire-option.js';
import { exitCodeOf } from './errors.js';
import { ftraceOpt } from './ftrace/options.js';

const commands: Record<string, CommandSpec> = { server: serverSpec, client: clientSpec, demo: demoSpec };

const topHelp = `Usage: envtest <command> [options]

The vsock-rpc tracing demo: guests ship trace events to their host over vsock; the host merges
them with its own into one timeline in host-clock order.

Commands:
  server   host side: accept guests, merge, print/export the timeline   (default ${DEFAULT_LISTEN})
  client   guest side: generate events and send them to the host         (default ${DEFAULT_CONNECT})
  demo     a server and K clients on this machine over a unix socket (no VM needed)

Run 'envtest <command> --help' for a command's options.
`;

/** SIGINT/SIGTERM → abort; a second signal ends the process at once (a stuck shutdown must stay interruptible). */
function shutdownSignal(): AbortSignal {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) {
      process.stderr.write(`envtest: second ${sig}, exiting without cleanup\n`);
      process.exit(130);
    }
    process.stderr.write(`envtest: ${sig}, shutting down (again to force)\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return ac.signal;
}

/** The command being run, so a usage error can point at its --help. */
let current: string | undefined;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const sub = command === 'help' ? rest[0] : undefined;
    const spec = sub !== undefined ? commands[sub] : undefined;
    process.stdout.write(spec ? helpText(spec) : topHelp);
    return command === undefined ? 2 : 0;
  }
  const spec = commands[command];
  current = spec ? command : undefined;
  if (!spec) throw new UsageError(`unknown command '${command}' (commands: ${Object.keys(commands).join(', ')})`);
  const v = parseCommand(spec, rest);
  if (v['help']) {
    process.stdout.write(helpText(spec));
    return 0;
  }
  const durationS = numberOpt(v, 'duration', { min: 0 }) ?? 0;
  switch (command) {
    case 'server': {
      const latenessMs = numberOpt(v, 'lateness-ms', { min: 0 }) ?? 1000;
      const holdMs = numberOpt(v, 'startup-hold-ms', { min: 0 });
      const exportPath = stringOpt(v, 'export');
      const summaryPath = stringOpt(v, 'summary');
      const metrics = hostPortOpt(v, 'metrics');
      const allowCids = cidListOpt(v, 'allow-cid');
      const limits = hostLimitsFromArgs(v);
      const quiet = v['quiet'] === true;
      const wire = wireOpt(v, 'server');
      const listen = addressOpt(v, 'listen', wire === 'legacy' ? DEFAULT_LEGACY_LISTEN : DEFAULT_LISTEN).text;
      const ftrace = ftraceOpt(v, 'server');
      if (ftrace && wire === 'legacy') throw new UsageError('--ftrace needs the vsock-rpc wire (the legacy wire carries only text)', 'server');
      // With --ftrace the kernel's events replace the random ones, unless --rate asks for both.
      const rate = numberOpt(v, 'rate', { min: 0, max: 1e6 }) ?? (ftrace ? 0 : 200);
      const summary = await runServer({
        ...(ftrace ? { ftrace } : {}),
        listen,
        rate,
        durationS,
        limits,
        latenessNs: BigInt(Math.round(latenessMs * 1e6)),
        ...(holdMs !== undefined ? { startupHoldNs: BigInt(Math.round(holdMs * 1e6)) } : {}),
        console: !quiet,
        color: process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined,
        statusMs: v['status'] === true || process.stderr.isTTY === true ? 1000 : 0,
        signal: shutdownSignal(),
        ...(exportPath !== undefined ? { exportPath } : {}),
        ...(summaryPath !== undefined ? { summaryPath } : {}),
        ...(metrics !== undefined ? { metrics } : {}),
        ...(allowCids !== undefined ? { allowCids } : {}),
        ...(wire === 'legacy' ? { wire } : {}),
        onListening: ({ address, metricsUrl }) =>
          process.stderr.write(`envtest server: listening on ${formatAddress(address)}${metricsUrl ? `, metrics at ${metricsUrl}` : ''}\n`),
      });
      process.stderr.write(`envtest server: ${summary.events.total} events in ${summary.durationS} s, late ${summary.late}, dropped ${summary.dropped}\n`);
      return 0;
    }
    case 'client': {
      const count = numberOpt(v, 'count', { min: 0, integer: true }) ?? 0;
      const summaryPath = stringOpt(v, 'summary');
      const name = stringOpt(v, 'name') ?? defaultClientName();
      if (name.length === 0 || name.length > 256) throw new UsageError('--name must be 1..256 characters', 'client');
      const wire = wireOpt(v, 'client');
      const connect = addressOpt(v, 'connect', wire === 'legacy' ? DEFAULT_LEGACY_CONNECT : DEFAULT_CONNECT).text;
      const timeoutScale = numberOpt(v, 'timeout-scale', { min: 0.001, max: 10_000 }) ?? 1;
      const connectTimeoutS = numberOpt(v, 'connect-timeout', { min: 0, max: 86_400 }) ?? 30 * timeoutScale;
      const ftrace = ftraceOpt(v, 'client');
      if (ftrace && wire === 'legacy') throw new UsageError('--ftrace needs the vsock-rpc wire (the legacy wire carries only text)', 'client');
      const rate = numberOpt(v, 'rate', { min: ftrace ? 0 : 0.001, max: 1e6 }) ?? (ftrace ? 0 : 200);
      const clockSkewNs = bigintOpt(v, 'clock-skew-ns') ?? 0n;
      const summary = await runClient({
        ...(ftrace ? { ftrace } : {}),
        connect,
        connectTimeoutS,
        timeoutScale,
        name,
        count,
        rate,
        durationS,
        clockSkewNs,
        ...(wire === 'legacy' ? { wire } : {}),
        signal: shutdownSignal(),
        ...(summaryPath !== undefined ? { summaryPath } : {}),
      });
      process.stderr.write(`envtest client ${name}: sent ${summary.events.total} events in ${summary.durationS} s, dropped ${summary.dropped}\n`);
      return 0;
    }
    default: {
      const exportPath = stringOpt(v, 'export');
      const summaryPath = stringOpt(v, 'summary');
      const clients = numberOpt(v, 'clients', { min: 1, max: 64, integer: true }) ?? 3;
      const rate = numberOpt(v, 'rate', { min: 0.001, max: 1e5 }) ?? 20;
      await runDemo({
        clients,
        durationS: v['duration'] === undefined ? 10 : durationS,
        rate,
        signal: shutdownSignal(),
        ...(exportPath !== undefined ? { exportPath } : {}),
        ...(summaryPath !== undefined ? { summaryPath } : {}),
      });
      return 0;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      // One line: what was wrong, and where the options are.
      const cmd = err.command ?? current;
      process.stderr.write(`envtest: ${err.message} (see 'envtest ${cmd ? `${cmd} ` : ''}--help')\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`envtest: ${(err as Error).message ?? String(err)}\n`);
      // A tracing setup failure (not root, unknown event...) is 2, like a usage error.
      process.exitCode = exitCodeOf(err);
    }
  },
);

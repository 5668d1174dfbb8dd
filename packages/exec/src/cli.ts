#!/usr/bin/env node
/**
 * The `vsexec` command: `vsexec agent` (in the guest) and `vsexec run` (on the host). This file
 * is the process edge: it parses the command line, wires the host's signals, terminal and stdio
 * to a session, and turns the outcome into the exit code (see HELP in cli-args.ts).
 */
import { escapeText } from '@vsock-rpc/wire';
import { ExecAgent } from './agent.js';
import { HELP, parseAgentArgs, parseRunArgs } from './cli-args.js';
import { ExecError } from './errors.js';
import { EXIT_VSEXEC_FAILED, exitCodeOf, signalNumber } from './exit-status.js';
import { ExecClient, type RunningCommand } from './run.js';
import { readTokenFile } from './token.js';

/** Signals of the host that go to the remote process group instead of ending vsexec. */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

function fail(message: string, code: number): never {
  process.stderr.write(`vsexec: ${message}\n`);
  process.exit(code);
}

async function agentMain(argv: readonly string[]): Promise<void> {
  const args = parseAgentArgs(argv);
  const token = args.tokenFile === undefined ? undefined : readTokenFile(args.tokenFile);
  const agent = await ExecAgent.listen(args.listen, {
    allowCids: args.allowCids,
    ...(token !== undefined && { token }),
    maxSessions: args.maxSessions,
    ...(args.quiet && { log: null }),
    engine: { timeoutScale: args.timeoutScale },
  });
  const stop = (sig: NodeJS.Signals) => {
    process.stderr.write(`vsexec agent: ${sig}, closing (running sessions are killed)\n`);
    void agent.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function runMain(argv: readonly string[]): Promise<number> {
  const args = parseRunArgs(argv);
  const token = args.tokenFile === undefined ? undefined : readTokenFile(args.tokenFile);
  const client = await ExecClient.connect(args.connect, { timeoutScale: args.timeoutScale });
  const stdinIsTty = process.stdin.isTTY === true;
  const size = () => ({ cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 });
  // A broken local pipe (`vsexec run … | head`) fails the session; never crash on it.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  if (args.tty && stdinIsTty) process.stdin.setRawMode(true); // keys, ctrl-C included, go to the remote terminal
  const cmd: RunningCommand = client.run({
    argv: args.argv,
    env: args.env,
    ...(args.cwd !== undefined && { cwd: args.cwd }),
    ...(args.tty && { tty: { size: size(), term: process.env.TERM ?? 'xterm' } }),
    ...(args.timeoutSeconds !== undefined && { timeoutMs: Math.max(1, Math.round(args.timeoutSeconds * 1000)) }),
    ...(token !== undefined && { token }),
    stdin: args.noStdin ? null : process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  });
  let interrupts = 0;
  for (const sig of FORWARDED)
    process.on(sig, () => {
      // A hung agent must not trap the user: the third ctrl-C ends vsexec itself (the agent kills the command when the connection closes).
      if (sig === 'SIGINT' && ++interrupts >= 3) fail('third SIGINT: giving up on the remote command', 130);
      void cmd.signal(sig).catch(() => {});
    });
  if (args.tty && process.stdout.isTTY) process.stdout.on('resize', () => void cmd.resize(size()).catch(() => {}));
  try {
    const status = await cmd.exit;
    if (status.error !== undefined) process.stderr.write(`vsexec: remote: cannot start ${escapeText(args.argv[0]!)}: ${escapeText(status.error)}\n`);
    if (status.timedOut) process.stderr.write(`vsexec: timed out after ${args.timeoutSeconds} s: the remote process group was killed\n`);
    return exitCodeOf(status);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') return 128 + (signalNumber('SIGPIPE') ?? 13); // as a shell reports a SIGPIPE death
    throw err;
  } finally {
    if (args.tty && stdinIsTty) process.stdin.setRawMode(false);
  }
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    process.exit(command === undefined ? 2 : 0);
  }
  try {
    if (command === 'agent') await agentMain(rest);
    else if (command === 'run') process.exit(await runMain(rest));
    else fail(`unknown command ${JSON.stringify(command)}: vsexec agent | vsexec run (see vsexec --help)`, 2);
  } catch (err) {
    if (err instanceof ExecError && err.code === 'ERR_EXEC_USAGE') fail(err.message, 2);
    const code = (err as { code?: unknown }).code;
    fail(`${escapeText((err as Error).message ?? String(err), 1024)}${typeof code === 'string' ? ` (${code})` : ''}`, EXIT_VSEXEC_FAILED);
  }
}

await main();

/**
 * Running the built CLI (envtest/dist/cli.js) as a child process, as a user would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI. Tests run against dist (the root `npm test` builds first). */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Fails early with a clear message when the CLI has not been built. */
export function requireBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -b envtest)`);
}

/** A running CLI process with its output collected. */
export interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal name). */
  done: Promise<number | string>;
}

/** Starts `node cli.js ...args`. */
export function start(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<number | string>((resolve) => child.once('close', (code, sig) => resolve(code ?? sig ?? -1)));
  return { child, stdout: () => out, stderr: () => err, done };
}

/** Runs to completion. */
export async function run(args: string[], env?: Record<string, string>): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const r = start(args, env);
  const code = await r.done;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

/** Resolves when `cond()` holds, polling; rejects after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

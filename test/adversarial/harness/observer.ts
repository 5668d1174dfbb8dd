/**
 * The observer: a real `envtest client` process from 127.0.0.1 sending a known number of events
 * at a known rate while an attack runs. Its summary says what it sent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI } from './server.js';

export interface ClientRun {
  name: string;
  child: ChildProcess;
  summaryPath: string;
  stderr: () => string;
  done: Promise<number | string>;
}

export function startClient(dir: string, port: number, name: string, count: number, rate: number, extra: string[] = []): ClientRun {
  const summaryPath = path.join(dir, `${name}.client.json`);
  const child = spawn(
    process.execPath,
    [
      CLI,
      'client',
      '--connect',
      `tcp://127.0.0.1:${port}`,
      '--name',
      name,
      '--count',
      String(count),
      '--rate',
      String(rate),
      '--summary',
      summaryPath,
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<number | string>((resolve) => child.once('close', (c, s) => resolve(c ?? s ?? -1)));
  return { name, child, summaryPath, stderr: () => err, done };
}

/** Waits for the client to exit (SIGTERM after `timeoutMs`, SIGKILL 10 s later); its summary. */
export async function finishClient(c: ClientRun, timeoutMs: number): Promise<{ code: number | string; summary?: Record<string, any> }> {
  const t1 = setTimeout(() => c.child.kill('SIGTERM'), timeoutMs);
  const t2 = setTimeout(() => c.child.kill('SIGKILL'), timeoutMs + 10_000);
  const code = await c.done;
  clearTimeout(t1);
  clearTimeout(t2);
  const summary = existsSync(c.summaryPath) ? (JSON.parse(readFileSync(c.summaryPath, 'utf8')) as Record<string, any>) : undefined;
  return { code, summary };
}

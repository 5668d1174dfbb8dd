/**
 * A real `envtest server` process on TCP loopback, as a user runs it: JSONL export, summary on
 * stop, Prometheus metrics on a loopback port. Its stderr is kept verbatim (log-injection check).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../../envtest/dist/cli.js', import.meta.url));

/** A free TCP port on 127.0.0.1 (bind 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The `server --help` text, to use deadline flags only if the CLI has them. */
export function serverHelp(): string {
  return spawnSync(process.execPath, [CLI, 'server', '--help'], { encoding: 'utf8' }).stdout;
}

export interface ServerOptions {
  dir: string;
  port: number;
  /** Host hook rate (events/s). */
  hostRate?: number;
  /** Extra flags (deadline flags when the CLI has them). */
  extra?: string[];
  /** Export file name inside `dir` (several incarnations in one dir need distinct names). */
  tag?: string;
}

export class ServerProcess {
  readonly child: ChildProcess;
  readonly exportPath: string;
  readonly summaryPath: string;
  stderrBuf = Buffer.alloc(0);
  metricsUrl?: string;
  exitCode: number | string | undefined;
  readonly exited: Promise<number | string>;

  constructor(readonly opts: ServerOptions) {
    const tag = opts.tag ?? 'server';
    this.exportPath = path.join(opts.dir, `${tag}.jsonl`);
    this.summaryPath = path.join(opts.dir, `${tag}.summary.json`);
    const args = [
      CLI,
      'server',
      '--listen',
      `tcp://127.0.0.1:${opts.port}`,
      '--quiet',
      '--rate',
      String(opts.hostRate ?? 50),
      '--export',
      this.exportPath,
      '--summary',
      this.summaryPath,
      '--metrics',
      '127.0.0.1:0',
      ...(opts.extra ?? []),
    ];
    this.child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderrBuf = Buffer.concat([this.stderrBuf, d]);
      this.metricsUrl ??= /metrics at (http:\/\/\S+\/metrics)/.exec(this.stderrBuf.toString('latin1'))?.[1];
    });
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, sig) => {
        this.exitCode = code ?? sig ?? -1;
        resolve(this.exitCode);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get stderr(): string {
    return this.stderrBuf.toString('utf8');
  }

  /** Resolves once the server accepts TCP and printed its metrics URL. */
  async ready(timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.exitCode !== undefined) throw new Error(`server exited (${this.exitCode}): ${this.stderr}`);
      if (this.metricsUrl && (await tcpAccepts(this.opts.port))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server not ready in ${timeoutMs} ms: ${this.stderr}`);
  }

  /** SIGTERM, wait for the summary; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<Record<string, any> | undefined> {
    if (this.exitCode === undefined) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(t);
    }
    return existsSync(this.summaryPath) ? (JSON.parse(readFileSync(this.summaryPath, 'utf8')) as Record<string, any>) : undefined;
  }

  kill9(): Promise<number | string> {
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

/** Whether something accepts a TCP connection on 127.0.0.1:port (closes it at once). */
export function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 2000);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

/** Events per source in a JSONL export (lines may still be arriving). */
export function exportCounts(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(file)) return counts;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\{"source":"((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) counts.set(JSON.parse(`"${m[1]}"`) as string, (counts.get(JSON.parse(`"${m[1]}"`) as string) ?? 0) + 1);
  }
  return counts;
}

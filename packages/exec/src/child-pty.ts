/**
 * A session's command on a pseudo-terminal, with `node-pty` (forkpty: the child is a session
 * leader with the pty as its controlling terminal, so its pgid is its pid and ctrl-C typed into
 * the terminal reaches its foreground group). node-pty is an optional dependency, loaded only
 * when a session asks for a tty.
 *
 * Backpressure: output is paused after each chunk until the host's credit admits it, so the
 * child blocks on a full pty. node-pty's `write` has no drain signal; its write queue
 * (`_writeStream._writeQueue`, the one internal used here, guarded) is polled so that at most one
 * stdin chunk waits in the agent.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { killGroup, type ChildExit, type OutputSink, type SessionChild } from './child.js';
import type { SpawnSpec } from './child-pipes.js';
import { ExecError } from './errors.js';
import { signalName } from './exit-status.js';
import { MAX_CHUNK, type WindowSize } from './registry.js';

/** The part of node-pty's `IPty` used here (typed locally: node-pty is optional). */
interface Pty {
  readonly pid: number;
  onData(listener: (data: Buffer | string) => void): { dispose(): void };
  onExit(listener: (e: { exitCode: number; signal?: number }) => void): { dispose(): void };
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  /** node-pty's terminals are event emitters too: 'close' comes when the pty's fd is closed, before 'exit'. */
  on?(event: 'close', listener: () => void): void;
}
interface PtyModule {
  spawn(file: string, args: string[], options: Record<string, unknown>): Pty;
}

let loaded: Promise<PtyModule> | undefined;

/** Loads node-pty once; rejects with `ERR_EXEC_NO_PTY` when it is missing or not built. */
export function loadPty(): Promise<PtyModule> {
  loaded ??= import('node-pty' as string).then(
    (m: { default?: PtyModule } & PtyModule) => m.default ?? m,
    (err: unknown) => {
      throw new ExecError(
        'ERR_EXEC_NO_PTY',
        `a pseudo-terminal needs the optional dependency node-pty, which did not load (${(err as Error).message}): install it with \`npm install node-pty\` (it builds with node-gyp), or run without -t`,
        { cause: err },
      );
    },
  );
  return loaded;
}

/** Starts `spec` on a new pty of `size`, with `TERM=term`. */
export async function spawnPty(spec: SpawnSpec, size: WindowSize, term: string): Promise<SessionChild> {
  const pty = await loadPty();
  const [file, ...args] = spec.argv;
  const p = pty.spawn(file!, args, { name: term || 'xterm', cols: size.cols, rows: size.rows, cwd: spec.cwd ?? process.cwd(), env: spec.env, encoding: null });
  return new PtyChild(p);
}

/** The terminal's EOF character (VEOF, ctrl-D in the default `stty` settings node-pty applies). */
const EOF_CHAR = Buffer.from([4]);

class PtyChild implements SessionChild {
  readonly pid: number;
  readonly #pty: Pty;
  #exited = false;
  /** The pty's fd is closed: writing would fail with EBADF (node-pty logs that to the console). */
  #closed = false;
  readonly #exit: Promise<ChildExit>;
  readonly #queue: Buffer[] = [];
  #wake: (() => void) | undefined;

  constructor(pty: Pty) {
    this.#pty = pty;
    this.pid = pty.pid;
    pty.onData((d) => {
      this.#queue.push(typeof d === 'string' ? Buffer.from(d) : d);
      pty.pause(); // resumed when the host has taken what is queued
      this.#wake?.();
    });
    pty.on?.('close', () => (this.#closed = true));
    this.#exit = new Promise((resolve) => {
      // node-pty reports exit after the pty's last output (it waits for the socket's close).
      pty.onExit(({ exitCode, signal }) => {
        this.#exited = true;
        this.#closed = true;
        this.#wake?.();
        const name = signal ? signalName(signal) : undefined;
        resolve(name ? { signal: name } : { code: exitCode });
      });
    });
  }

  async writeStdin(data: Uint8Array): Promise<boolean> {
    if (this.#closed) return false;
    this.#pty.write(Buffer.from(data));
    const queue = (this.#pty as unknown as { _writeStream?: { _writeQueue?: unknown[] } })._writeStream?._writeQueue;
    while (Array.isArray(queue) && queue.length > 0 && !this.#closed) await sleep(2);
    return true;
  }

  endStdin(): void {
    if (!this.#closed) this.#pty.write(EOF_CHAR);
  }

  resize(size: WindowSize): boolean {
    if (this.#closed) return false;
    this.#pty.resize(size.cols, size.rows);
    return true;
  }

  signalGroup(signal: NodeJS.Signals): boolean {
    return killGroup(this.pid, signal);
  }

  async run(sink: OutputSink): Promise<ChildExit> {
    for (;;) {
      const chunk = this.#queue.shift();
      if (chunk) {
        for (let off = 0; off < chunk.length; off += MAX_CHUNK) await sink('stdout', chunk.subarray(off, off + MAX_CHUNK));
        if (this.#queue.length === 0) this.#pty.resume();
        continue;
      }
      if (this.#exited) return this.#exit;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

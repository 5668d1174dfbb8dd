/**
 * A session's command on three pipes: `spawn` with `detached: true`, which makes the child a
 * session and process group leader (setsid), so `kill(-pid)` reaches all it started. Output is
 * read with the pipes' own backpressure: a chunk is read only after the previous one was
 * admitted by the host's stream credit, so a host that stops reading stops the child at its
 * pipe (a full pipe blocks its write), and the agent holds at most one chunk per pipe.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { killGroup, type ChildExit, type OutputSink, type SessionChild } from './child.js';
import { MAX_CHUNK } from './registry.js';

/** What to start: argv, the full environment, the working directory. */
export interface SpawnSpec {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string | undefined;
}

/**
 * Starts `spec` on pipes. Rejects (with node's spawn error: ENOENT, EACCES…) when it cannot be
 * started, so the session can report "not started" instead of an exit code.
 */
export async function spawnPiped(spec: SpawnSpec): Promise<SessionChild> {
  const [file, ...args] = spec.argv;
  const child = spawn(file!, args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) {
    const [err] = (await once(child, 'error')) as [Error];
    throw err;
  }
  return new PipedChild(child, child.pid);
}

class PipedChild implements SessionChild {
  readonly pid: number;
  readonly #child: ChildProcessWithoutNullStreams;
  #stdinOpen = true;
  readonly #exited: Promise<ChildExit>;

  constructor(child: ChildProcessWithoutNullStreams, pid: number) {
    this.#child = child;
    this.pid = pid;
    // The child may close its stdin at any time (head, a daemon): EPIPE is not a failure of ours.
    child.stdin.on('error', () => (this.#stdinOpen = false));
    child.stdin.once('close', () => (this.#stdinOpen = false));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ? { signal } : { code: code ?? 0 }));
    });
  }

  async writeStdin(data: Uint8Array): Promise<boolean> {
    const stdin = this.#child.stdin;
    if (!this.#stdinOpen || stdin.destroyed || stdin.writableEnded) return false;
    if (!stdin.write(data)) {
      // Wait for room, or for the pipe to go away (the child closed its end).
      await new Promise<void>((resolve) => {
        const done = () => {
          stdin.off('drain', done);
          stdin.off('close', done);
          resolve();
        };
        stdin.on('drain', done);
        stdin.on('close', done);
      });
    }
    return true;
  }

  endStdin(): void {
    if (!this.#child.stdin.writableEnded) this.#child.stdin.end();
  }

  resize(): boolean {
    return false;
  }

  signalGroup(signal: NodeJS.Signals): boolean {
    return killGroup(this.pid, signal);
  }

  async run(sink: OutputSink): Promise<ChildExit> {
    await Promise.all([pump(this.#child.stdout, 'stdout', sink), pump(this.#child.stderr, 'stderr', sink)]);
    return this.#exited;
  }
}

/** Reads `from` chunk by chunk, each written to the sink before the next is read. */
async function pump(from: Readable, stream: 'stdout' | 'stderr', sink: OutputSink): Promise<void> {
  try {
    for await (const chunk of from as AsyncIterable<Buffer>) {
      for (let off = 0; off < chunk.length; off += MAX_CHUNK) await sink(stream, chunk.subarray(off, off + MAX_CHUNK));
    }
  } catch {
    // The sink failed (the stream was reset): stop reading; the session kills the group.
    from.destroy();
  }
}

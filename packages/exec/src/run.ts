/**
 * The host side: {@link ExecClient} connects to an agent and runs commands, each in a session
 * stream of its own (many at once on one connection). Output is written to the caller's
 * streams, and the next chunk is read only once the previous one was taken (`write` returned
 * true or `'drain'` came), so a slow reader holds back the remote command, end to end.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { ClientEngine, type BidiStreamCall, type ClientEngineOptions, type TransportAddress } from '@vsock-rpc/engine';
import { IDLE_TIMEOUT_MS } from './connection-defaults.js';
import { ExecError } from './errors.js';
import {
  MAX_CHUNK,
  execRegistry,
  type ExecRegistry,
  type ExitStatus,
  type OpenRequest,
  type SessionInput,
  type SessionOutput,
  type WindowSize,
} from './registry.js';

/** What to run, and where its input comes from and its output goes. */
export interface RunOptions {
  /** The program and its arguments (no shell is involved: use `['sh', '-c', '…']` for one). */
  readonly argv: readonly string[];
  /** `NAME=value` entries for the remote environment. */
  readonly env?: readonly string[];
  /** Remote working directory. */
  readonly cwd?: string;
  /** Run on a pseudo-terminal of this size (`term` becomes `TERM`). stdout then carries both outputs. */
  readonly tty?: { readonly size: WindowSize; readonly term: string };
  /** The agent kills the process group after this many ms; the status says `timedOut`. */
  readonly timeoutMs?: number;
  /** The agent's token, if it requires one. */
  readonly token?: string;
  /** The remote stdin: read with backpressure, then EOF. Absent: EOF at once. The iterable is consumed (and a Readable closed). */
  readonly stdin?: AsyncIterable<Uint8Array> | null;
  /** Where the remote stdout goes (required). */
  readonly stdout: Writable;
  /** Where the remote stderr goes (required). */
  readonly stderr: Writable;
}

/** A command running remotely. */
export interface RunningCommand {
  /** Resolves with the session id and the remote pid once the agent has started it. */
  readonly started: Promise<{ readonly session: number; readonly pid: number }>;
  /**
   * Resolves with how the command ended. Rejects with the agent's refusal (`RpcError`
   * `PERMISSION_DENIED`, `RESOURCE_EXHAUSTED`…), a lost connection (`UNAVAILABLE`), a failed
   * local output stream (its own error, e.g. `EPIPE`: the remote command is then killed) or
   * `CANCELLED` after {@link cancel}.
   */
  readonly exit: Promise<ExitStatus>;
  /** Sends `signal` to the remote process group (once started). Resolves true when a process got it. */
  signal(signal: NodeJS.Signals): Promise<boolean>;
  /** Resizes the remote pseudo-terminal (a no-op without `tty`). */
  resize(size: WindowSize): Promise<boolean>;
  /** Gives up: the agent kills the remote process group. */
  cancel(reason?: string): void;
}

/** A connection to a vsexec agent. */
export class ExecClient {
  readonly #engine: ClientEngine<ExecRegistry>;

  private constructor(engine: ClientEngine<ExecRegistry>) {
    this.#engine = engine;
  }

  /**
   * Connects to the agent at `address` (`vsock://3:1234`, `hybrid:///run/vm.vsock:1234`,
   * `unix://…`, `tcp://…`). No reconnect: a session does not survive its connection.
   */
  static async connect(address: TransportAddress | string, options: Omit<ClientEngineOptions<ExecRegistry>, 'registry'> = {}): Promise<ExecClient> {
    const engine = await ClientEngine.connect(address, {
      name: 'vsexec',
      logger: null,
      clock: false,
      idleTimeoutMs: IDLE_TIMEOUT_MS * (options.timeoutScale ?? 1),
      ...options,
      reconnect: false,
      registry: execRegistry,
    });
    return new ExecClient(engine);
  }

  /** Starts `options.argv` remotely. */
  run(options: RunOptions): RunningCommand {
    return startCommand(this.#engine, options);
  }

  /** Closes the connection: the agent kills what is still running of this connection's sessions. */
  async close(timeoutMs = 1000): Promise<void> {
    await this.#engine.close(timeoutMs);
  }
}

function startCommand(engine: ClientEngine<ExecRegistry>, options: RunOptions): RunningCommand {
  const stream = engine.openStream('session') as BidiStreamCall<SessionInput, SessionOutput>;
  let resolveStarted!: (v: { session: number; pid: number }) => void;
  let rejectStarted!: (e: Error) => void;
  const started = new Promise<{ session: number; pid: number }>((resolve, reject) => ((resolveStarted = resolve), (rejectStarted = reject)));
  started.catch(() => {}); // reported through `exit`
  const open: OpenRequest = {
    argv: [...options.argv],
    env: [...(options.env ?? [])],
    ...(options.cwd !== undefined && { cwd: options.cwd }),
    ...(options.tty && { tty: { size: options.tty.size, term: options.tty.term } }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.token !== undefined && { token: options.token }),
  };
  const exit = (async () => {
    try {
      await stream.write({ kind: 'open', open });
      void pumpStdin(stream, options.stdin ?? null);
      const status = await readOutput(stream, options, resolveStarted);
      return status;
    } catch (err) {
      rejectStarted(err as Error);
      stream.cancel((err as Error).message);
      throw err;
    } finally {
      // The agent has sent `exit`: stop sending stdin (the agent discards it anyway).
      stream.cancel('the session is over');
    }
  })();
  exit.catch(() => {}); // a caller that cancels need not await `exit`; one that awaits still sees the rejection
  return {
    started,
    exit,
    signal: async (signal) => {
      const { session } = await started;
      return (await engine.call('signal', { session, signal })).delivered;
    },
    resize: async (size) => {
      const { session } = await started;
      return (await engine.call('resize', { session, size })).resized;
    },
    cancel: (reason = 'cancelled by the host') => stream.cancel(reason),
  };
}

/** Sends stdin in chunks the stream admits, awaiting each (the stream's credit is the backpressure), then END. */
async function pumpStdin(stream: BidiStreamCall<SessionInput, SessionOutput>, stdin: AsyncIterable<Uint8Array> | null): Promise<void> {
  try {
    if (stdin) {
      for await (const chunk of stdin) {
        for (let off = 0; off < chunk.length; off += MAX_CHUNK) await stream.write({ kind: 'stdin', data: chunk.subarray(off, off + MAX_CHUNK) });
      }
    }
    await stream.end();
  } catch {
    // The stream failed or the session ended: `exit` reports it; stdin is no longer wanted.
  }
}

/** Reads the agent's messages, writing output with backpressure, until `exit`. */
async function readOutput(
  stream: BidiStreamCall<SessionInput, SessionOutput>,
  options: RunOptions,
  onStarted: (v: { session: number; pid: number }) => void,
): Promise<ExitStatus> {
  let status: ExitStatus | undefined;
  for await (const m of stream) {
    switch (m.kind) {
      case 'started':
        onStarted({ session: m.session, pid: m.pid });
        break;
      case 'stdout':
        await writeTo(options.stdout, m.data);
        break;
      case 'stderr':
        await writeTo(options.stderr, m.data);
        break;
      case 'exit':
        status = m.status;
        break;
    }
  }
  if (!status) throw new ExecError('ERR_EXEC_PROTOCOL', 'the agent ended the session without an exit status: it may have crashed; see its log');
  return status;
}

/** Writes `data`, waiting for `'drain'` when the stream's buffer is full; rejects on the stream's error. */
async function writeTo(out: Writable, data: Uint8Array): Promise<void> {
  if (out.destroyed || out.writableEnded) throw Object.assign(new Error('the output stream is closed'), { code: 'EPIPE' });
  if (!out.write(data)) await once(out, 'drain');
}

/**
 * A worker thread seen from the main thread: typed one-shot requests (post `{ type }`, wait for
 * the reply of the same type), the first message of a type, and the thread's exit.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import { asFamilyError } from './errors.js';

/** A message from a worker: always has a `type`. */
export interface WorkerMessage {
  type: string;
  [k: string]: unknown;
}

/** Wraps a Worker started from `file` (a URL next to this module, e.g. './workers/hook.js'). */
export class WorkerHandle {
  readonly worker: Worker;
  readonly name: string;
  /** Resolves with the exit code when the thread ends. */
  readonly exited: Promise<number>;
  #waiters = new Map<string, ((m: WorkerMessage) => void)[]>();
  #error: Error | undefined;
  #ended = false;

  constructor(name: string, file: URL, workerData: unknown, transferList: readonly TransferListItem[] = []) {
    this.name = name;
    this.worker = new Worker(file, { workerData, transferList: [...transferList] });
    this.worker.on('message', (m: WorkerMessage) => {
      const ws = this.#waiters.get(m.type);
      if (ws?.length) {
        this.#waiters.delete(m.type);
        for (const w of ws) w(m);
      }
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('error', (err) => {
        this.#error = err;
        // Wake everyone waiting: they would wait forever otherwise.
        for (const [type, ws] of this.#waiters) for (const w of ws) w({ type: 'error', message: err.message, for: type });
        this.#waiters.clear();
      });
      this.worker.once('exit', (code) => {
        this.#ended = true;
        for (const [type, ws] of this.#waiters) for (const w of ws) w({ type: 'exit', code, for: type });
        this.#waiters.clear();
        resolve(code);
      });
    });
  }

  /** The uncaught error that ended the thread, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** The next message of one of `types` (or an 'error'/'exit' pseudo-message if the thread ends first). */
  next(...types: string[]): Promise<WorkerMessage> {
    if (this.#ended) return Promise.resolve({ type: 'exit', for: types[0] });
    return new Promise((resolve) => {
      let done = false;
      const once = (m: WorkerMessage) => {
        if (done) return;
        done = true;
        for (const t of types) {
          const ws = this.#waiters.get(t);
          if (ws)
            this.#waiters.set(
              t,
              ws.filter((w) => w !== once),
            );
        }
        resolve(m);
      };
      for (const t of types) this.#waiters.set(t, [...(this.#waiters.get(t) ?? []), once]);
    });
  }

  /** Post `{ type }` and wait for the reply of the same type. */
  request(type: string): Promise<WorkerMessage> {
    const reply = this.next(type);
    this.worker.postMessage({ type });
    return reply;
  }

  /** Post a message. */
  post(message: object): void {
    this.worker.postMessage(message);
  }
}

/** `p`, or undefined after `ms` — with an unref'd timer, so the wait never keeps the process alive. */
export function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(asFamilyError(e, 'ERR_ENVTEST_WORKER'));
      },
    );
  });
}

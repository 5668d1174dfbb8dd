/**
 * Waiting for the server: the client's first connection, with a progress line on each retry ("waiting for the server at vsock://2:11451 (attempt 3, retrying in 0.8 s)"), a time
 * limit (--connect-timeout), and an immediate failure for what no retry can fix.
 */
import { dial, formatAddress, type TransportAddress } from '@vsock-rpc/vsock';
import { EnvtestError } from './errors.js';

/** Errors worth retrying: nobody listens yet, or the peer did not answer in time. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAGAIN', 'EHYBRIDHANDSHAKE']);

/** Options of {@link watchConnect}. */
export interface WaitOptions {
  /** Give up after this many ms (0: one attempt, no retry). */
  timeoutMs: number;
  /** Where progress lines go. */
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Longest single attempt, ms (default 5000). */
  attemptTimeoutMs?: number;
}

/** The delay before retry `attempt` (1-based): 200 ms doubling to 5 s, with up to 25 % jitter. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(5000, 200 * 2 ** Math.min(attempt - 1, 10));
  return Math.round(base * (0.75 + 0.25 * random()));
}

/** How a connection attempt by the trace agent ended, as {@link watchConnect} sees it. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: Error };

/**
 * Watches the trace agent's first connection (`connected`: it resolves once the agent is
 * connected, or with the agent's own failure) and makes the wait visible and bounded. While the
 * agent has not connected after `quietMs` (default 1 s; at once with `timeoutMs` 0), probe
 * connections check whether anything listens at `address`: each refused, missing or timed-out
 * probe prints "waiting for the server at ADDR (attempt N, retrying in D s): CODE". When time
 * is up with the server still unreachable, or the error is one no retry can fix (an unknown
 * host, vsock unsupported here), `abort()` stops the agent and this rejects at once. Once a
 * probe gets through, the agent's own (bounded) attempts are left to finish.
 *
 * The common case, a server that is there, costs no probe at all: the agent connects first.
 * @throws EnvtestError with the transport's code (`ECONNREFUSED`, `ENOENT`, `ENOTFOUND`, …).
 */
export async function watchConnect<T>(
  connected: Promise<T>,
  address: TransportAddress,
  opts: WaitOptions & { abort: () => void; quietMs?: number },
): Promise<T> {
  const text = formatAddress(address);
  let settled = false;
  const agent = connected.then((value) => {
    settled = true;
    return value;
  });
  const deadline = performance.now() + opts.timeoutMs;
  const wake = new AbortController();
  void agent.then(
    () => wake.abort(),
    () => wake.abort(),
  );
  opts.signal?.addEventListener('abort', () => wake.abort(), { once: true });
  const fail = (err: Error): never => {
    opts.abort();
    throw err;
  };
  if (opts.timeoutMs > 0) await sleep(Math.min(opts.quietMs ?? 1000, opts.timeoutMs), wake.signal);
  for (let attempt = 1; !settled; attempt++) {
    if (opts.signal?.aborted) fail(new EnvtestError('ABORT_ERR', `interrupted while waiting for the server at ${text}`, { address: text }));
    const remaining = deadline - performance.now();
    try {
      const socket = await dial(address, { timeoutMs: Math.max(500, Math.min(opts.attemptTimeoutMs ?? 5000, remaining)), signal: wake.signal });
      socket.destroy();
      break; // something listens: the agent's next attempt will get through
    } catch (err) {
      if (settled) break;
      if (opts.signal?.aborted) continue;
      const code = (err as { code?: unknown }).code;
      const message = (err as Error).message.replace(/\.$/, '');
      const retryable = typeof code === 'string' && RETRYABLE.has(code);
      const left = deadline - performance.now();
      if (!retryable || left <= 0) {
        const limit = retryable ? ` (gave up after ${attempt} attempt${attempt > 1 ? 's' : ''}; --connect-timeout sets the limit)` : '';
        fail(
          new EnvtestError(typeof code === 'string' ? code : 'ERR_ENVTEST_CONNECT', `cannot connect to ${text}: ${message}${limit}`, {
            address: text,
            syscall: 'connect',
            cause: err,
          }),
        );
      }
      const delay = Math.min(retryDelayMs(attempt), left);
      opts.log(`waiting for the server at ${text} (attempt ${attempt}, retrying in ${(delay / 1000).toFixed(1)} s): ${String(code)}`);
      await sleep(delay, wake.signal);
    }
  }
  return agent;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

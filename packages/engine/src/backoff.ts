/** Reconnect timing of a {@link ClientEngine}. */
export interface BackoffOptions {
  /** First delay (default 100 ms). */
  readonly initialDelayMs?: number;
  /** Largest delay (default 10 000 ms). */
  readonly maxDelayMs?: number;
  /** Growth per attempt (default 2). */
  readonly factor?: number;
  /** Fraction of each delay that is random (default 0.5: a delay d becomes d × [0.5, 1]). */
  readonly jitter?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0-based): exponential growth capped at
 * maxDelayMs, with "equal jitter" so that many guests restarted together do not reconnect in
 * lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const base = Math.min(max, initial * factor ** Math.min(attempt, 60));
  return base * (1 - jitter) + base * jitter * random();
}

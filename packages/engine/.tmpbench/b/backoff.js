/**
 * The delay before reconnect attempt `attempt` (0-based): exponential growth capped at
 * maxDelayMs, with "equal jitter" so that many guests restarted together do not reconnect in
 * lockstep.
 */
export function backoffDelay(attempt, options = {}, random = Math.random) {
    const initial = options.initialDelayMs ?? 100;
    const max = options.maxDelayMs ?? 10_000;
    const factor = options.factor ?? 2;
    const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    const base = Math.min(max, initial * factor ** Math.min(attempt, 60));
    return base * (1 - jitter) + base * jitter * random();
}
//# sourceMappingURL=backoff.js.map
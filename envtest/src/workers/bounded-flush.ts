/**
 * The end of a client's connect thread, native or legacy wire alike: flush what the agent holds,
 * bounded, so a server that went away cannot keep the client from exiting.
 */
import { EnvtestError } from '../errors.js';

/** Base bound of the flush at --timeout-scale 1, ms. */
export const FLUSH_WAIT_MS = 15_000;

/**
 * Waits for `flush()` for at most FLUSH_WAIT_MS × `timeoutScale`.
 * @returns the reason it did not finish (for the client's summary), or undefined.
 */
export async function boundedFlush(flush: () => Promise<void>, timeoutScale: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const limitMs = FLUSH_WAIT_MS * timeoutScale;
  try {
    await Promise.race([
      flush(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new EnvtestError(
                'ERR_ENVTEST_FLUSH_TIMEOUT',
                `flush did not finish within ${Math.round(limitMs / 1000)} s: is the server gone, or this guest slower than --timeout-scale ${timeoutScale} allows?`,
              ),
            ),
          limitMs,
        );
      }),
    ]);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

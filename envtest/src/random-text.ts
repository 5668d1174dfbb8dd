/**
 * The original demo's tracing event: a random string of 1..65 uppercase letters.
 */
const A = 65; // 'A'

/** A random uppercase string of 1..65 characters (the C++ hook's `messageexp.str`). */
export function randomText(rand: () => number = Math.random): string {
  const len = 1 + Math.floor(rand() * 65);
  const codes = new Array<number>(len);
  for (let i = 0; i < len; i++) codes[i] = A + Math.floor(rand() * 26);
  return String.fromCharCode(...codes);
}

/**
 * Exponential inter-arrival time for `rate` events/s, in ms: events at random intervals whose
 * average rate is `rate` (a Poisson process), like the original's random sleeps.
 */
export function nextIntervalMs(rate: number, rand: () => number = Math.random): number {
  return (-Math.log(1 - rand()) / rate) * 1000;
}

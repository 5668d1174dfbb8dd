/**
 * Issue 11: a real `envtest server` under attack from raw peers written from PROTOCOL.md alone,
 * while an observer `envtest client` sends at a known rate. One `it` per attack; each asserts the
 * common criteria (server alive and accepting, observer lost nothing and nothing late, a fresh
 * good peer gets in at once, RSS bounded, bad peers closed with the right code).
 * Short counts here (npm test); `npm run test:adversarial` runs the full counts and writes
 * test/adversarial/results/REPORT.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL, SHARED_ATTACKS, Suite } from './suite.js';
import type { ResultRow } from './harness/types.js';

const suite = new Suite();
const scale = FULL ? 10 : 1;

function assertRow(row: ResultRow): void {
  expect(row.failures, `${row.id}. ${row.attack}: ${row.failures.join('; ')}`).toEqual([]);
  expect(row.pass).toBe(true);
}

describe(`adversarial suite (${FULL ? 'full' : 'short'} run)`, () => {
  beforeAll(async () => {
    await suite.start();
  }, 60_000);
  afterAll(async () => {
    await suite.stop();
    suite.writeReport();
  }, 120_000);

  for (const a of SHARED_ATTACKS) {
    it(`${a.id}. ${a.name}`, async () => assertRow(await suite.run(a.id)), (a.id === 2 || a.id === 3 ? 120_000 : 90_000) * scale);
  }

  it('7b. server kill -9 ×3 under load', async () => assertRow(await suite.runRestart()), 120_000);
});

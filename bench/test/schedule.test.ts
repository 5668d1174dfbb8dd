import { describe, expect, it } from 'vitest';
import { repsFor } from '../src/runner/schedule.js';
import type { AnyWorkload } from '../src/workload-contract.js';

const w = (reps?: { full: number; quick: number }): AnyWorkload =>
  ({ name: 'x', kind: 'rate', variants: [], placements: ['unpinned'], ...(reps ? { reps } : {}) }) as unknown as AnyWorkload;

describe('repsFor', () => {
  it("uses the suite's repetitions unless the workload sets its own", () => {
    expect(repsFor(w(), { quick: false, reps: 5, repsExplicit: false })).toBe(5);
    expect(repsFor(w({ full: 3, quick: 1 }), { quick: false, reps: 5, repsExplicit: false })).toBe(3);
    expect(repsFor(w({ full: 3, quick: 1 }), { quick: true, reps: 3, repsExplicit: false })).toBe(1);
  });
  it('--reps overrides every workload', () => {
    expect(repsFor(w({ full: 3, quick: 1 }), { quick: true, reps: 4, repsExplicit: true })).toBe(4);
  });
});

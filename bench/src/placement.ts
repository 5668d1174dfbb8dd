// CPU placement of the two peers, applied with taskset(1) when it is available.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { CpuPlan, Placement } from './workload-contract.js';

export const placementLabel: Record<Placement, string> = {
  unpinned: 'unpinned',
  'same-cpu': 'same CPU',
  'across-cpus': 'across CPUs',
};

/** Absolute path of a working taskset, or null. "Working" matters: a container may ship the
 *  binary but forbid sched_setaffinity. */
export function findTaskset(): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'taskset');
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    const probe = spawnSync(candidate, ['-c', '0', 'true'], { stdio: 'ignore' });
    return probe.status === 0 ? candidate : null;
  }
  return null;
}

export function cpuPlan(placement: Placement): CpuPlan {
  switch (placement) {
    case 'same-cpu':
      return { server: 0, client: 0 };
    case 'across-cpus':
      return { server: 0, client: 1 };
    case 'unpinned':
      return { server: null, client: null };
  }
}

/** The placements a workload can really run in here, and why any were dropped. */
export function usablePlacements(wanted: readonly Placement[], taskset: string | null, cores: number): { placements: Placement[]; notes: string[] } {
  const notes: string[] = [];
  let placements = [...wanted];
  if (!taskset && placements.some((p) => p !== 'unpinned')) {
    notes.push('taskset is not available: pinned placements were run unpinned instead.');
    placements = ['unpinned'];
  } else if (cores < 2 && placements.includes('across-cpus')) {
    notes.push('only one CPU: the across-CPUs placement was skipped.');
    placements = placements.filter((p) => p !== 'across-cpus');
  }
  return { placements, notes };
}

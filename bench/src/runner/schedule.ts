// Runs one workload: every (variant, placement) pair once per repetition, repetitions
// interleaved so that drift on a shared machine (another engineer's build starting) hits every
// variant alike instead of whichever happened to run last.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuPlan, placementLabel, usablePlacements } from '../placement.js';
import { rotate } from '../stats.js';
import type { Progress } from '../progress.js';
import type { AnyWorkload, Placement, RunContext, Sample, Variant } from '../workload-contract.js';
import { runPeerPair } from './pair.js';

/** Time a run may take beyond its own limit: two node processes booting (grpc-js loading) on a
 *  loaded machine, and draining what was sent. Past it the run is killed and recorded as failed. */
const GRACE_SECONDS = 30;

export interface RunRecord {
  readonly variant: string;
  readonly placement: Placement;
  readonly rep: number;
  /** wall time of the whole run, process start-up included */
  readonly wallSeconds: number;
  readonly sample?: Sample;
  readonly error?: string;
}

export interface WorkloadResult {
  readonly workload: AnyWorkload;
  readonly placements: readonly Placement[];
  readonly reps: number;
  /** e.g. why a placement was dropped */
  readonly notes: readonly string[];
  readonly runs: readonly RunRecord[];
  /** set when the workload did not run at all here, with the reason */
  readonly skipped?: string;
}

export interface ScheduleEnv {
  readonly quick: boolean;
  /** the suite's repetitions; a workload's own `reps` replaces it unless `repsExplicit` */
  readonly reps: number;
  readonly repsExplicit: boolean;
  /** the workload was named with --only */
  readonly selected: boolean;
  readonly taskset: string | null;
  readonly cores: number;
  readonly progress: Progress;
}

export function repsFor(w: AnyWorkload, env: Pick<ScheduleEnv, 'quick' | 'reps' | 'repsExplicit'>): number {
  if (env.repsExplicit || !w.reps) return env.reps;
  return env.quick ? w.reps.quick : w.reps.full;
}

export async function runWorkload(w: AnyWorkload, env: ScheduleEnv): Promise<WorkloadResult> {
  const reps = repsFor(w, env);
  const skipped = (await w.unavailable?.(env.quick, env.selected)) ?? null;
  if (skipped !== null) {
    env.progress.note(`bench: ${w.name} skipped: ${skipped}`);
    return { workload: w, placements: [], reps, notes: [], runs: [], skipped };
  }
  const wanted = env.quick && w.quickPlacements ? w.quickPlacements : w.placements;
  const { placements, notes } = usablePlacements(wanted, env.taskset, env.cores);
  if (wanted !== w.placements) {
    const dropped = w.placements.filter((p) => !wanted.includes(p)).map((p) => placementLabel[p]);
    if (dropped.length > 0)
      notes.push(`--quick: measured ${wanted.map((p) => placementLabel[p]).join(', ')} only (${dropped.join(', ')} left to the full run).`);
  }
  const limits = env.quick ? w.limits.quick : w.limits.full;
  // Widened on purpose: the sample's kind is checked at run time below (SampleOf<K> is a
  // conditional type, so TypeScript will not widen Variant<'rate'> to Variant by itself).
  const variants = w.variants as ReadonlyArray<Variant>;
  const combos = variants.flatMap((variant) => placements.map((placement) => ({ variant, placement })));
  const runs: RunRecord[] = [];
  const repsOf = (v: Variant): number => (env.quick && !env.repsExplicit && v.quickReps !== undefined ? Math.min(reps, v.quickReps) : reps);
  for (const v of variants) {
    if (repsOf(v) < reps) notes.push(`--quick: ${v.name} ran ${repsOf(v)} of ${reps} repetitions (its process start-up dominates a short run).`);
  }
  for (let rep = 1; rep <= reps; rep++) {
    for (const { variant, placement } of rotate(combos, rep - 1)) {
      if (rep > repsOf(variant)) continue;
      env.progress.update(`${w.name}: ${variant.name} · ${placementLabel[placement]} · rep ${rep}/${reps}`);
      const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'vsock-rpc-bench-'));
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), (limits.seconds + GRACE_SECONDS) * 1000);
      const cpus = cpuPlan(placement);
      const ctx: RunContext = {
        quick: env.quick,
        limits,
        placement,
        cpus,
        rep,
        reps,
        tmpDir,
        signal: controller.signal,
        runPeers: (spec) => runPeerPair(spec, { tmpDir, cpus, taskset: env.taskset, signal: controller.signal }),
      };
      const t0 = performance.now();
      try {
        const sample = await variant.run(ctx);
        if (sample.kind !== w.kind) throw new Error(`returned a '${sample.kind}' sample, the workload expects '${w.kind}'`);
        runs.push({ variant: variant.name, placement, rep, wallSeconds: (performance.now() - t0) / 1000, sample });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        env.progress.note(`${w.name}: ${variant.name} (${placementLabel[placement]}, rep ${rep}) failed: ${message}`);
        runs.push({ variant: variant.name, placement, rep, wallSeconds: (performance.now() - t0) / 1000, error: message });
      } finally {
        clearTimeout(timer);
        rmSync(tmpDir, { recursive: true, force: true });
      }
    }
  }
  return { workload: w, placements, reps, notes, runs };
}

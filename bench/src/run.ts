// `node bench/dist/run.js [--quick] [--json FILE] [--only NAME[,NAME]] [--reps N] [--out DIR] [--no-readme]`
// Runs the workloads, then writes REPORT.md, the SVG charts, optionally the JSON, and the summary
// block of the root README.md (between its bench-summary markers).
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArgsError, parseArgs, selectWorkloads, usage, type Options } from './args.js';
import { describeMachine } from './machine.js';
import { findTaskset } from './placement.js';
import { createProgress } from './progress.js';
import { runWorkload, type WorkloadResult } from './runner/schedule.js';
import { writeOutputs } from './report/write.js';
import { workloads } from './workload-definitions.js';

const DEFAULT_REPS = 5;
const QUICK_REPS = 3;

async function main(opts: Options): Promise<number> {
  const selected = selectWorkloads(workloads, opts.only);
  const reps = opts.reps ?? (opts.quick ? QUICK_REPS : DEFAULT_REPS);
  const taskset = findTaskset();
  const machine = describeMachine(taskset);
  const progress = createProgress();
  if (!taskset) progress.note('bench: taskset not found or not permitted; latency workloads run unpinned');
  const t0 = performance.now();
  const results: WorkloadResult[] = [];
  for (const w of selected) {
    results.push(
      await runWorkload(w, {
        quick: opts.quick,
        reps,
        repsExplicit: opts.reps !== null,
        selected: opts.only?.includes(w.name) ?? false,
        taskset,
        cores: machine.cores,
        progress,
      }),
    );
  }
  progress.done();
  machine.loadEnd = os.loadavg()[0] ?? 0;
  // A partial run (--only) must not replace the full report the README links to: its report goes
  // to bench/results/partial/ unless --out says otherwise.
  const outDir = opts.out ?? fileURLToPath(new URL(opts.only ? '../results/partial' : '../results', import.meta.url));
  const readme = opts.noReadme || opts.only ? null : fileURLToPath(new URL('../../README.md', import.meta.url));
  const written = writeOutputs({ results, machine, opts, reps, outDir, readme, wallSeconds: (performance.now() - t0) / 1000 });
  for (const line of written.lines) process.stdout.write(`${line}\n`);
  process.stderr.write(`bench: wrote ${path.relative(process.cwd(), written.report)}${opts.json ? ` and ${opts.json}` : ''}\n`);
  if (written.readmeNote) process.stderr.write(`bench: ${written.readmeNote}\n`);
  return results.some((r) => r.runs.some((run) => run.error)) ? 1 : 0;
}

let opts: Options;
try {
  opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(`${usage}\n`);
  } else {
    process.exitCode = await main(opts);
  }
} catch (err) {
  if (err instanceof ArgsError) {
    process.stderr.write(`bench: ${err.message}\n${usage}\n`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}

// Writes everything a run produces: REPORT.md and one SVG per workload in the results directory,
// and the JSON file when asked for.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Options } from '../args.js';
import type { MachineInfo } from '../machine.js';
import type { WorkloadResult } from '../runner/schedule.js';
import { chartFor } from './charts.js';
import { renderJson } from './json.js';
import { renderMarkdown, summaryLines } from './markdown.js';
import { summarize } from './summary.js';

export interface WriteInput {
  readonly results: readonly WorkloadResult[];
  readonly machine: MachineInfo;
  readonly opts: Options;
  readonly reps: number;
  readonly outDir: string;
  readonly wallSeconds: number;
}

export function writeOutputs(input: WriteInput): { report: string; lines: string[] } {
  const { opts } = input;
  const command = ['node bench/dist/run.js', ...process.argv.slice(2)].join(' ');
  const summaries = input.results.map(summarize);
  mkdirSync(input.outDir, { recursive: true });
  // Charts of workloads not in this run would sit next to a report that no longer describes them.
  for (const f of readdirSync(input.outDir)) if (f.endsWith('.svg')) rmSync(path.join(input.outDir, f));
  const charts = new Map<string, string>();
  for (const s of summaries) {
    if (!s.rows.some((r) => r.value)) continue;
    const file = `${s.result.workload.name}.svg`;
    writeFileSync(path.join(input.outDir, file), chartFor(s, input.machine));
    charts.set(s.result.workload.name, file);
  }
  const report = path.join(input.outDir, 'REPORT.md');
  writeFileSync(
    report,
    renderMarkdown({ summaries, machine: input.machine, command, quick: opts.quick, reps: input.reps, wallSeconds: input.wallSeconds, charts }),
  );
  if (opts.json) writeFileSync(opts.json, renderJson(summaries, input.machine, command, opts.quick));
  return { report, lines: summaryLines(summaries) };
}

// Writes everything a run produces: REPORT.md and one SVG per workload in the results directory,
// and the JSON file when asked for.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Options } from '../args.js';
import type { MachineInfo } from '../machine.js';
import type { WorkloadResult } from '../runner/schedule.js';
import { chartFor } from './charts.js';
import { renderJson } from './json.js';
import { renderMarkdown, summaryLines } from './markdown.js';
import { summarize } from './summary.js';
import { factsFrom, renderSummary, replaceBetweenMarkers } from './headline.js';

export interface WriteInput {
  readonly results: readonly WorkloadResult[];
  readonly machine: MachineInfo;
  readonly opts: Options;
  readonly reps: number;
  readonly outDir: string;
  readonly wallSeconds: number;
  /** README.md whose bench-summary block is rewritten, or null */
  readonly readme: string | null;
}

export function writeOutputs(input: WriteInput): { report: string; lines: string[]; readmeNote: string | null } {
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
  const m = input.machine;
  const summary = renderSummary(factsFrom(summaries), {
    command,
    date: m.date,
    machine: `${m.cores} × ${m.cpuModel}, node ${m.node}`,
    loadStart: m.loadStart,
    loadEnd: m.loadEnd,
    quick: opts.quick,
  });
  const report = path.join(input.outDir, 'REPORT.md');
  writeFileSync(
    report,
    renderMarkdown({ summaries, summary, machine: m, command, quick: opts.quick, reps: input.reps, wallSeconds: input.wallSeconds, charts }),
  );
  if (opts.json) writeFileSync(opts.json, renderJson(summaries, m, command, opts.quick));
  let readmeNote: string | null = null;
  if (input.readme && existsSync(input.readme)) {
    try {
      const before = readFileSync(input.readme, 'utf8');
      const block = `${summary}\n\nFull tables and charts: [bench/results/REPORT.md](bench/results/REPORT.md).`;
      const after = replaceBetweenMarkers(before, block);
      if (after !== before) writeFileSync(input.readme, after);
      readmeNote = `updated the summary in ${path.relative(process.cwd(), input.readme)}`;
    } catch (err) {
      readmeNote = `README.md not updated: ${(err as Error).message}`;
    }
  }
  return { report, lines: summaryLines(summaries), readmeNote };
}

/** The per-attack table, as markdown. */
import type { ResultRow } from './harness/types.js';

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownReport(rows: ResultRow[], title: string, context: string[]): string {
  const lines = [
    `# ${title}`,
    '',
    ...context,
    '',
    '| # | attack | sent | server peak RSS MiB | RSS growth MiB | observer sent / received / late | new-peer connect ms | bad peer closed with | result |',
    '|--:|---|---|--:|--:|---|--:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.id} | ${cell(r.attack)} | ${cell(r.sent)} | ${f1(r.peakRssMiB)} | ${f1(r.growthMiB)} | ${r.obsSent} / ${r.obsReceived} / ${r.obsLate} | ${f1(r.connectMs)} | ${cell(r.closeCodes)} | ${r.pass ? 'PASS' : '**FAIL**'} |`,
    ),
    '',
    `${rows.filter((r) => r.pass).length} of ${rows.length} attacks pass.`,
    '',
  ];
  for (const r of rows) {
    if (r.failures.length === 0 && r.notes.length === 0) continue;
    lines.push(`## ${r.id}. ${r.attack} (${r.pass ? 'PASS' : 'FAIL'}, ${r.seconds.toFixed(1)} s)`, '');
    for (const f of r.failures) lines.push(`- FAIL: ${cell(f)}`);
    for (const n of r.notes) lines.push(`- note: ${cell(n)}`);
    lines.push('');
  }
  return lines.join('\n');
}

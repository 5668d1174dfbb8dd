// Checks envtest's ftrace export inside the guest (the job share is deleted once the guest stops):
// node ftrace-e2e-check.mjs EXPORT.jsonl OUT.json
// Writes { lines, outOfOrder, late (events marked late), disorder (the first out-of-order ones), bySourceKind, cpusBySource, sample, fieldsOk } to OUT.json.
import { readFileSync, writeFileSync } from 'node:fs';

const [file, out] = process.argv.slice(2);
const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
let prev = -1n;
let outOfOrder = 0;
let fieldsOk = true;
let late = 0;
const disorder = [];
const bySourceKind = {};
const cpus = {};
const sample = {};
for (const l of lines) {
  const e = JSON.parse(l);
  const ts = BigInt(e.ts);
  if (e.fields?.late === true) late++;
  if (ts < prev) {
    outOfOrder++;
    if (disorder.length < 8) disorder.push({ source: e.source, kind: e.kind, seq: e.seq, backNs: String(prev - ts), late: e.fields?.late === true });
  }
  if (ts > prev) prev = ts;
  const k = (bySourceKind[e.source] ??= {});
  k[e.kind] = (k[e.kind] ?? 0) + 1;
  if (e.kind !== 'sched:sched_switch') continue;
  const f = e.fields ?? {};
  for (const name of ['common_cpu', 'common_pid', 'common_comm', 'prev_comm', 'prev_pid', 'prev_state', 'next_comm', 'next_pid', 'next_prio']) {
    if (!(name in f)) fieldsOk = false;
  }
  (cpus[e.source] ??= new Set()).add(f.common_cpu);
  const s = (sample[e.source] ??= []);
  if (s.length < 3) s.push(l);
}
const cpusBySource = Object.fromEntries(Object.entries(cpus).map(([k, v]) => [k, [...v].sort()]));
writeFileSync(out, JSON.stringify({ lines: lines.length, outOfOrder, late, disorder, bySourceKind, cpusBySource, sample, fieldsOk }));

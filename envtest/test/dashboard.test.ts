import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ENVTEST_METRIC_NAMES } from '../src/envtest-metrics.js';

describe('grafana-dashboard.json', () => {
  it('is a dashboard whose panels query metrics that exist', async () => {
    const dash = JSON.parse(await readFile(new URL('../grafana-dashboard.json', import.meta.url), 'utf8')) as {
      title: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dash.title).toBeTruthy();
    expect(dash.panels.length).toBeGreaterThanOrEqual(6);
    const known = new Set<string>(ENVTEST_METRIC_NAMES);
    for (const p of dash.panels) {
      for (const t of p.targets) {
        for (const name of t.expr.match(/\b(envtest|vsockrpc)_[a-z_]+/g) ?? []) {
          if (name.startsWith('envtest_')) expect(known, `${p.title}: ${name}`).toContain(name);
        }
      }
    }
    const all = dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join(' ');
    for (const n of ['envtest_events_total', 'envtest_late_events_total', 'envtest_dropped_events_total', 'envtest_merge_buffered']) expect(all).toContain(n);
  });
});

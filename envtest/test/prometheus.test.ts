/**
 * A real Prometheus (Debian's `prometheus`, installed by scripts/ensure-prometheus.sh) scrapes
 * `envtest server --metrics`: through its HTTP API, envtest_events_total equals the summary's
 * count, and every expression of grafana-dashboard.json is valid PromQL that returns data.
 * Without a prometheus binary the test is skipped, never passed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { requireBuilt, run, start, until } from './helpers.js';

requireBuilt();

function findPrometheus(): string | undefined {
  for (const p of ['/usr/bin/prometheus', '/usr/local/bin/prometheus']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}
const prometheus = findPrometheus();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once `read()` gives a value `ok` accepts, polling every 250 ms; rejects after `ms`. */
async function poll<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms: number, what: (last: T | undefined) => string): Promise<void> {
  const end = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (ok(last)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe.skipIf(prometheus === undefined)('a real Prometheus scraping envtest server --metrics', () => {
  it('counts what the summary counts, and every dashboard expression returns data', { timeout: 180_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'envtest-prom-'));
    const sock = join(dir, 's.sock');
    const summaryPath = join(dir, 'summary.json');
    const metricsPort = await freePort();
    const promPort = await freePort();
    const server = start(['server', '--listen', `unix://${sock}`, '--metrics', `127.0.0.1:${metricsPort}`, '--rate', '0', '--quiet', '--summary', summaryPath]);
    await writeFile(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: envtest\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`,
    );
    const prom = spawn(
      prometheus!,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let promLog = '';
    prom.stderr.setEncoding('utf8').on('data', (d: string) => (promLog += d));
    const query = async (expr: string): Promise<QueryResult> => {
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (await r.json()) as QueryResult;
    };
    const scalar = async (expr: string): Promise<number | undefined> => {
      const r = await query(expr).catch(() => undefined);
      const v = r?.data?.result[0]?.value[1];
      return v === undefined ? undefined : Number(v);
    };
    try {
      await until(() => server.stderr().includes('listening on'), 15_000, 'the server to listen');
      const client = await run(['client', '--connect', `unix://${sock}`, '--name', 'guest-p', '--count', '500', '--rate', '1000']);
      expect(client.code, client.stderr).toBe(0);
      // Prometheus sees the final count once a scrape after the client's last event happened.
      await poll(
        () => scalar('sum(envtest_events_total)'),
        (v) => v === 500,
        60_000,
        (v) => `Prometheus to scrape 500 events (last seen ${String(v)}; prometheus log: ${promLog.slice(-500)})`,
      );
      // rate() needs two samples in its window: wait for a few more scrapes.
      await poll(
        () => scalar('count_over_time(envtest_merge_buffered[1m])'),
        (v) => (v ?? 0) >= 3,
        30_000,
        () => 'three scrapes',
      );
      const dash = JSON.parse(await readFile(new URL('../grafana-dashboard.json', import.meta.url), 'utf8')) as {
        panels: { title: string; targets?: { expr: string }[] }[];
      };
      const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
      expect(exprs.length).toBeGreaterThan(5);
      for (const { title, expr } of exprs) {
        const r = await query(expr);
        expect(r.status, `${title}: ${expr}: ${r.error ?? ''}`).toBe('success');
        expect(r.data!.result.length, `${title}: ${expr} returned no data`).toBeGreaterThan(0);
      }
      server.child.kill('SIGINT');
      expect(await server.done, server.stderr()).toBe(0);
      const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as { events: { total: number } };
      expect(summary.events.total).toBe(500);
      expect(await scalar('sum(envtest_events_total)')).toBe(summary.events.total);
    } finally {
      prom.kill('SIGTERM');
      server.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});

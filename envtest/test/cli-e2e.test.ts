import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuilt, run, start, until } from './helpers.js';

requireBuilt();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envtest-e2e-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface JsonlEvent {
  source: string;
  seq: number;
  ts: string;
  origTs: string;
  errorBoundNs: string;
  kind: string;
  text?: string;
}

describe('envtest server + clients over a unix socket', () => {
  it('receives every guest event once, in ts order, and shuts down cleanly on SIGINT', async () => {
    const sock = join(dir, 'a.sock');
    const summaryPath = join(dir, 'server-summary.json');
    const exportPath = join(dir, 'timeline.jsonl');
    const server = start([
      'server',
      '--listen',
      `unix://${sock}`,
      '--duration',
      '60',
      '--summary',
      summaryPath,
      '--export',
      exportPath,
      '--rate',
      '100',
      '--quiet',
    ]);
    await until(() => server.stderr().includes('listening on'), 15_000, 'the server to listen');
    expect(server.stderr()).toContain(`listening on unix://${sock}`); // formatted with formatAddress, never [object Object]
    const clientSummary = join(dir, 'client-a.json');
    const clients = await Promise.all([
      run(['client', '--connect', `unix://${sock}`, '--name', 'guest-a', '--count', '2000', '--rate', '2000', '--summary', clientSummary]),
      run(['client', '--connect', `unix://${sock}`, '--name', 'guest-b', '--count', '2000', '--rate', '2000', '--clock-skew-ns', '5000000000']),
    ]);
    for (const c of clients) expect(c.code, c.stderr).toBe(0);
    server.child.kill('SIGINT'); // ctrl-C: flush the merge, close the export, write the summary
    expect(await server.done, server.stderr()).toBe(0);

    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as {
      events: { bySource: Record<string, number> };
      dropped: number;
      late: number;
      clock: Record<string, { offsetNs: string; errorBoundNs: string; driftPpm: number }>;
      eventsPerSecond: number;
      durationS: number;
    };
    expect(summary.events.bySource['guest-a']).toBe(2000);
    expect(summary.events.bySource['guest-b']).toBe(2000);
    expect(summary.events.bySource['host']).toBeGreaterThan(0);
    expect(summary.dropped).toBe(0);
    expect(summary.late).toBe(0);
    expect(summary.durationS).toBeGreaterThan(0);
    expect(summary.eventsPerSecond).toBeGreaterThan(0);
    // guest-b's clock runs 5 s ahead: its agent measured that.
    expect(Math.abs(Number(BigInt(summary.clock['guest-b']!.offsetNs) - 5_000_000_000n))).toBeLessThan(5_000_000);
    expect(typeof summary.clock['guest-a']!.driftPpm).toBe('number');

    const events = (await readFile(exportPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JsonlEvent);
    for (let i = 1; i < events.length; i++) {
      if (BigInt(events[i]!.ts) < BigInt(events[i - 1]!.ts)) throw new Error(`export out of order at line ${i + 1}`);
    }
    for (const g of ['guest-a', 'guest-b']) {
      const seqs = events.filter((e) => e.source === g).map((e) => e.seq);
      expect(seqs.length).toBe(2000);
      expect(new Set(seqs).size).toBe(2000);
      expect(Math.max(...seqs)).toBe(1999);
    }
    // Converted into the host domain: guest-b's ts are ~5 s below its own clock readings.
    const b = events.find((e) => e.source === 'guest-b')!;
    expect(Number(BigInt(b.origTs) - BigInt(b.ts))).toBeGreaterThan(4.99e9);
    expect(b.text).toMatch(/^[A-Z]{1,65}$/);

    const client = JSON.parse(await readFile(clientSummary, 'utf8')) as { events: { total: number }; dropped: number; clock: Record<string, unknown> };
    expect(client.events.total).toBe(2000);
    expect(client.dropped).toBe(0);
    expect(client.clock['guest-a']).toBeDefined();
  }, 90_000);

  it('writes a Perfetto trace with one process track per source and serves /metrics over HTTP', async () => {
    const sock = join(dir, 'b.sock');
    const tracePath = join(dir, 'trace.json');
    const server = start([
      'server',
      '--listen',
      `unix://${sock}`,
      '--duration',
      '15',
      '--export',
      tracePath,
      '--metrics',
      '127.0.0.1:0',
      '--rate',
      '50',
      '--quiet',
    ]);
    await until(() => /metrics at (http:\/\/\S+)/.test(server.stderr()), 15_000, 'the metrics URL');
    const url = /metrics at (http:\/\/\S+)/.exec(server.stderr())![1]!;
    const clients = await Promise.all(
      ['p1', 'p2'].map((name) => run(['client', '--connect', `unix://${sock}`, '--name', name, '--count', '300', '--rate', '1000'])),
    );
    for (const c of clients) expect(c.code, c.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const name of [
      'vsockrpc_frames_total',
      'vsockrpc_connections',
      'envtest_events_total',
      'envtest_late_events_total',
      'envtest_dropped_events_total',
      'envtest_merge_buffered',
      'envtest_guest_clock_offset_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/envtest_events_total\{source="p1"\} 300/);
    expect((await fetch(url.replace('/metrics', '/nope'))).status).toBe(404);
    expect(await server.done, server.stderr()).toBe(0);

    const trace = JSON.parse(await readFile(tracePath, 'utf8')) as { traceEvents: { ph: string; pid: number; name: string; args?: { name?: string } }[] };
    const procs = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name');
    const pidOf = new Map(procs.map((e) => [e.args!.name!, e.pid]));
    expect([...pidOf.keys()].sort()).toEqual(['host', 'p1', 'p2']);
    expect(new Set(pidOf.values()).size).toBe(3);
    const instant = trace.traceEvents.filter((e) => e.ph === 'i');
    expect(instant.filter((e) => e.pid === pidOf.get('p1')).length).toBe(300);
    expect(instant.filter((e) => e.pid === pidOf.get('p2')).length).toBe(300);
    expect(instant.every((e) => [...pidOf.values()].includes(e.pid))).toBe(true);
  }, 90_000);
});

describe('envtest demo', () => {
  it('runs a server and 2 clients for ~3 s and prints the merged timeline', async () => {
    const r = await run(['demo', '--clients', '2', '--duration', '3']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const events = lines.filter((l) => /^\d+ \S+ [A-Z]{1,65}$/.test(l)).map((l) => l.split(' '));
    const sources = new Set(events.map((e) => e[1]));
    expect(sources).toEqual(new Set(['host', 'guest-1', 'guest-2']));
    for (let i = 1; i < events.length; i++) expect(BigInt(events[i]![0]!) >= BigInt(events[i - 1]![0]!)).toBe(true);
    // Status lines: rates per source, late, dropped, and the guests' clock offsets (+1 s, -2 s).
    const status = lines.filter((l) => l.startsWith('── '));
    expect(status.length).toBeGreaterThanOrEqual(2);
    expect(status.some((l) => /guest-1 offset \+1\.0000\d\d s/.test(l) || /guest-1 offset \+(999|1000)\.\d+ ms/.test(l))).toBe(true);
    expect(r.stdout).toMatch(/demo done: \d+ events .* late 0, dropped 0/);
  }, 60_000);
});

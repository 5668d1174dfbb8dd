/**
 * Attack 7b: the server is SIGKILLed 3 times (and restarted on the same port) while an observer
 * sends 5,000 events. What the observer's summary says it sent must equal what the server
 * incarnations received (their JSONL exports), or its drop/unconfirmed counts must account for
 * the difference exactly: a silent loss fails.
 */
import { MAX_CONNECT_MS, MAX_PEAK_RSS_MIB } from '../harness/criteria.js';
import { goodPeerConnectMs } from '../harness/good-peer.js';
import { finishClient, startClient } from '../harness/observer.js';
import { readMem } from '../harness/proc.js';
import { ServerProcess, exportCounts, freePort } from '../harness/server.js';
import type { ResultRow } from '../harness/types.js';
import { sleep } from '../lib/peer.js';

export async function runRestartAttack(id: number, dir: string, extra: string[], log: (s: string) => void): Promise<ResultRow> {
  const started = performance.now();
  const failures: string[] = [];
  const notes: string[] = [];
  const port = await freePort();
  const servers: ServerProcess[] = [];
  const startServer = async (k: number) => {
    const s = new ServerProcess({ dir, port, tag: `restart-${k}`, extra });
    servers.push(s);
    await s.ready();
    return s;
  };
  log(`[${id}] server kill -9 ×3 under load: start`);
  let server = await startServer(0);
  const name = 'obs-restart';
  const count = 5000;
  const observer = startClient(dir, port, name, count, 1000);
  let peak = 0;
  const connects: number[] = [];
  for (let k = 1; k <= 3; k++) {
    await sleep(1200);
    peak = Math.max(peak, readMem(server.pid)?.hwmMiB ?? 0);
    await server.kill9();
    server = await startServer(k);
    const c = await goodPeerConnectMs(port);
    if (c instanceof Error) failures.push(`good peer after restart ${k}: ${c.message}`);
    else connects.push(c);
  }
  const obs = await finishClient(observer, 60_000);
  await sleep(2000);
  peak = Math.max(peak, readMem(server.pid)?.hwmMiB ?? 0);
  const finalSummary = await server.stop();
  const received = servers.reduce((a, s) => a + (exportCounts(s.exportPath).get(name) ?? 0), 0);
  const perIncarnation = servers.map((s) => exportCounts(s.exportPath).get(name) ?? 0);
  const sum = obs.summary;
  const generated = Number(sum?.details?.generated ?? NaN);
  const sent = Number(sum?.details?.sent ?? sum?.events?.total ?? NaN);
  const dropped = Number(sum?.dropped ?? 0);
  const d = (sum?.details ?? {}) as Record<string, unknown>;
  const unconfirmedKey = Object.keys(d).find((k) => /unconfirmed|unacked|lost/i.test(k));
  const unconfirmed = unconfirmedKey ? Number(d[unconfirmedKey]) : 0;
  notes.push(
    `observer exit ${obs.code}; summary: generated ${generated}, sent ${sent}, dropped ${dropped}${unconfirmedKey ? `, ${unconfirmedKey} ${unconfirmed}` : ', no unconfirmed count'}`,
  );
  const lastLate = Number(finalSummary?.details?.lateBySource?.[name] ?? finalSummary?.late ?? 0);
  if (lastLate > 0) failures.push(`the last server incarnation counted ${lastLate} of the observer's (resent) events late: kept out of the timeline`);
  notes.push(
    `received per server incarnation (JSONL export): ${perIncarnation.join(' + ')} = ${received}; last incarnation's summary counts ${finalSummary?.events?.bySource?.[name] ?? 'n/a'}`,
  );
  if (!sum) failures.push(`observer wrote no summary (exit ${obs.code}): ${observer.stderr().slice(-300)}`);
  else {
    const base = Number.isFinite(generated) ? generated : sent;
    const lost = base - received;
    if (lost !== 0 && lost !== dropped + unconfirmed) {
      failures.push(
        `silent loss: the observer generated ${base}, the servers received ${received} (lost ${lost}), but its summary accounts for ${dropped + unconfirmed} (dropped ${dropped}${unconfirmedKey ? `, ${unconfirmedKey} ${unconfirmed}` : ''})`,
      );
    }
  }
  if (peak >= MAX_PEAK_RSS_MIB) failures.push(`server peak RSS ${peak.toFixed(0)} MiB`);
  const connectMs = connects.length ? Math.max(...connects) : NaN;
  if (!(connectMs < MAX_CONNECT_MS)) failures.push(`new good peer after restart took ${connectMs} ms`);
  const row: ResultRow = {
    id,
    attack: 'server kill -9 ×3 under load',
    sent: `3 × SIGKILL of the server while the observer sends ${count} events at 1000/s`,
    peakRssMiB: peak,
    growthMiB: NaN,
    obsSent: sent,
    obsReceived: received,
    obsLate: lastLate,
    connectMs,
    closeCodes: 'n/a (the server is killed)',
    pass: failures.length === 0,
    failures,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
  log(`[${id}] server kill -9 ×3: ${row.pass ? 'PASS' : 'FAIL'}${failures.length ? `\n    ${failures.join('\n    ')}` : ''}`);
  return row;
}

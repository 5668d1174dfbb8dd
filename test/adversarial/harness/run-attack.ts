/**
 * Runs one attack against the live server while an observer client sends at a known rate and
 * fresh good peers keep connecting; returns the report row with every common criterion checked.
 */
import { MAX_CONNECT_MS, MAX_PEAK_RSS_MIB, MAX_RSS_GROWTH_MIB } from './criteria.js';
import { goodPeerConnectMs } from './good-peer.js';
import { metricValue, scrape } from './metrics.js';
import { finishClient, startClient } from './observer.js';
import { alive, readMem } from './proc.js';
import { exportCounts, tcpAccepts } from './server.js';
import type { Attack, AttackEnv, ResultRow } from './types.js';
import { sleep } from '../lib/peer.js';

export interface RunOptions {
  /** Observer events and rate (events/s): it runs alongside the attack. */
  observerCount: number;
  observerRate: number;
  /** Idle time after the attack before RSS is read (lets the server free what it held). */
  settleMs: number;
}

export async function runAttack(env: AttackEnv, id: number, name: string, attack: Attack, opts: RunOptions): Promise<ResultRow> {
  const started = performance.now();
  const failures: string[] = [];
  const notes: string[] = [];
  const pid = env.server.pid;
  const before = readMem(pid);
  env.log(`[${id}] ${name}: start (server RSS ${before?.rssMiB.toFixed(1)} MiB)`);

  const obsName = `obs-${id}`;
  const observer = startClient(env.dir, env.port, obsName, opts.observerCount, opts.observerRate);
  await sleep(300);

  // Fresh good peers during the attack, one per second, and one after it.
  const connectTimes: number[] = [];
  let attacking = true;
  const probing = (async () => {
    await sleep(500);
    while (attacking) {
      const r = await goodPeerConnectMs(env.port);
      if (r instanceof Error) failures.push(`good peer during attack: ${r.message}`);
      else connectTimes.push(r);
      await sleep(1000);
    }
  })();
  let peakHwm = before?.hwmMiB ?? NaN;
  const sampling = setInterval(() => {
    const m = readMem(pid);
    if (m) peakHwm = Math.max(peakHwm, m.hwmMiB);
  }, 250);

  let outcome;
  try {
    outcome = await attack(env);
  } catch (e) {
    outcome = { sent: '(attack threw)', closeCodes: '-', failures: [`attack threw: ${(e as Error).stack ?? e}`] };
  }
  attacking = false;
  await probing;
  failures.push(...outcome.failures);
  notes.push(...(outcome.notes ?? []));

  const after = await goodPeerConnectMs(env.port);
  if (after instanceof Error) failures.push(`good peer after attack: ${after.message}`);
  else connectTimes.push(after);

  // The observer: all it sent must be in the server's ordered output (late events are kept out).
  const obs = await finishClient(observer, (opts.observerCount / opts.observerRate) * 1000 + 30_000);
  // `details.generated`: what its hook produced (the known count); events.total became "acknowledged"
  // with the ack/resend feature, so the generated count is the one to compare with the server's.
  const obsSent = Number(obs.summary?.details?.generated ?? obs.summary?.events?.total ?? NaN);
  const obsDropped = Number(obs.summary?.dropped ?? NaN);
  const obsUnconfirmed = Number(obs.summary?.unconfirmed ?? obs.summary?.details?.unconfirmed ?? 0);
  if (obsUnconfirmed > 0) failures.push(`observer: ${obsUnconfirmed} events unconfirmed by the server`);
  if (!obs.summary) failures.push(`observer wrote no summary (exit ${obs.code}): ${observer.stderr().slice(-300)}`);
  else if (obsSent !== opts.observerCount) failures.push(`observer sent ${obsSent} of ${opts.observerCount} (exit ${obs.code})`);
  if (obsDropped > 0) failures.push(`observer dropped ${obsDropped}`);
  let obsReceived = 0;
  const end = performance.now() + 15_000;
  while (performance.now() < end) {
    obsReceived = exportCounts(env.server.exportPath).get(obsName) ?? 0;
    if (obsReceived >= obsSent) break;
    await sleep(250);
  }
  if (obsReceived !== obsSent) failures.push(`observer: server exported ${obsReceived} of ${obsSent} sent`);
  let obsLate = NaN;
  try {
    const s = await scrape(env.server.metricsUrl!);
    obsLate = metricValue(s.text, 'envtest_late_events_total', `source="${obsName}"`) ?? 0;
  } catch (e) {
    failures.push(`metrics scrape failed: ${(e as Error).message}`);
  }
  if (obsLate > 0) failures.push(`observer: ${obsLate} events counted late`);

  await sleep(opts.settleMs);
  clearInterval(sampling);
  const isAlive = alive(pid) && env.server.exitCode === undefined;
  if (!isAlive) failures.push(`server died (exit ${env.server.exitCode})`);
  else if (!(await tcpAccepts(env.port))) failures.push('server no longer accepts TCP');
  const mem = readMem(pid);
  if (mem) peakHwm = Math.max(peakHwm, mem.hwmMiB);
  const growth = mem && before ? mem.rssMiB - before.rssMiB : NaN;
  if (peakHwm >= MAX_PEAK_RSS_MIB) failures.push(`server peak RSS ${peakHwm.toFixed(0)} MiB ≥ ${MAX_PEAK_RSS_MIB}`);
  if (growth >= MAX_RSS_GROWTH_MIB) failures.push(`server RSS grew ${growth.toFixed(0)} MiB ≥ ${MAX_RSS_GROWTH_MIB}`);
  const connectMs = connectTimes.length ? Math.max(...connectTimes) : NaN;
  if (!(connectMs < MAX_CONNECT_MS)) failures.push(`new good peer took ${connectMs.toFixed(0)} ms ≥ ${MAX_CONNECT_MS}`);

  const row: ResultRow = {
    id,
    attack: name,
    sent: outcome.sent,
    peakRssMiB: peakHwm,
    growthMiB: growth,
    obsSent,
    obsReceived,
    obsLate,
    connectMs,
    closeCodes: outcome.closeCodes,
    pass: failures.length === 0,
    failures,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
  env.log(
    `[${id}] ${name}: ${row.pass ? 'PASS' : 'FAIL'} in ${row.seconds.toFixed(1)} s; close ${row.closeCodes}; connect ${connectMs.toFixed(1)} ms; RSS +${growth.toFixed(1)} MiB` +
      (failures.length ? `\n    ${failures.slice(0, 8).join('\n    ')}` : ''),
  );
  return row;
}

/**
 * Attack 5: timeline poisoning. A guest sends trace batches stamped days in the future (and a
 * watermark to match), then leaves. The observer (running throughout) and a good peer that
 * connects after the poison must have nothing late, and nothing may stay buffered in the merge.
 */
import { goodPeerConnectMs } from '../harness/good-peer.js';
import { metricValue, scrape } from '../harness/metrics.js';
import { finishClient, startClient } from '../harness/observer.js';
import { exportCounts } from '../harness/server.js';
import { tally, type Attack } from '../harness/types.js';
import { TRACE_BATCH, event, monoNs, ping, traceBatch } from '../lib/frames.js';
import { RawPeer, attackerAddress, packr, sleep } from '../lib/peer.js';

const DAY_NS = 86_400_000_000_000n;

export const poison: Attack = async (env) => {
  const batches = env.full ? 200 : 20;
  const outcomes: string[] = [];
  const failures: string[] = [];
  const notes: string[] = [];
  const sources = ['poison-future', 'poison-far', 'poison-watermark'];
  await Promise.all(
    sources.map(async (name, k) => {
      const peer = await RawPeer.connect(env.port, attackerAddress(k));
      await peer.handshake(name);
      const future = monoNs() + (k === 1 ? 3650n : 3n) * DAY_NS;
      for (let b = 0; b < batches; b++) {
        // poison-watermark sends only heartbeats promising a far-future watermark; the others events.
        const payload =
          k === 2
            ? packr.pack({ source: name, events: [], watermark: future + BigInt(b) })
            : traceBatch(name, b * 50, 50, future + BigInt(b) * 50_000n, future + BigInt(b + 1) * 50_000n);
        peer.write(event(TRACE_BATCH, payload));
      }
      peer.write(ping(99));
      await peer.until(() => peer.closed || peer.frames.some((f) => f.id === 99), 5000);
      outcomes.push(peer.goaway?.code ?? (peer.closed ? 'closed without GOAWAY' : 'open (left by us)'));
      peer.destroy(); // the attacker leaves
    }),
  );
  // A good peer that arrives after the poison: its events must not be late.
  await sleep(500);
  const lateName = 'late-comer-5';
  const lateComer = startClient(env.dir, env.port, lateName, 300, 150);
  const lc = await finishClient(lateComer, 30_000);
  const lcSent = Number(lc.summary?.events?.total ?? NaN);
  let lcReceived = 0;
  const end = performance.now() + 15_000;
  while (performance.now() < end && lcReceived < lcSent) {
    lcReceived = exportCounts(env.server.exportPath).get(lateName) ?? 0;
    await sleep(250);
  }
  const s = await scrape(env.server.metricsUrl!);
  const lcLate = metricValue(s.text, 'envtest_late_events_total', `source="${lateName}"`) ?? 0;
  if (lcReceived !== lcSent || !(lcSent > 0)) failures.push(`good peer after the poison: server exported ${lcReceived} of ${lcSent} sent`);
  if (lcLate > 0) failures.push(`good peer after the poison: ${lcLate} events late`);
  // Nothing stays buffered: the merge holds at most the lateness window of live sources (host at 50/s, observers).
  await sleep(3000);
  const s2 = await scrape(env.server.metricsUrl!);
  const buffered = metricValue(s2.text, 'envtest_merge_buffered') ?? NaN;
  const poisonedExported = sources.reduce((a, n) => a + (exportCounts(env.server.exportPath).get(n) ?? 0), 0);
  notes.push(`merge buffered 3 s after the attackers left: ${buffered}; poisoned events in the ordered output: ${poisonedExported}`);
  notes.push(`good peer after the poison: ${lcSent} sent, ${lcReceived} exported, ${lcLate} late, connect ${String(await goodPeerConnectMs(env.port))} ms`);
  if (!(buffered < 1000)) failures.push(`merge still buffers ${buffered} events 3 s after the poisoning guests left`);
  return {
    sent: `${sources.length} guests × ${batches} batches stamped 3 days / 10 years ahead (events, watermarks)`,
    closeCodes: tally(outcomes),
    failures,
    notes,
  };
};

/**
 * Attack 8: metric-label flood. One REQUEST to every registry TYPE_ id 0 … 0xFEFF, then scrape
 * /metrics: a per-id label would add tens of thousands of series. Other peers' PING RTT is
 * measured while scrapes run (a slow scrape on the server's event loop would stall them).
 */
import { metricValue, scrape } from '../harness/metrics.js';
import { type Attack } from '../harness/types.js';
import { Kind } from '../lib/frame.js';
import { request } from '../lib/frames.js';
import { RawPeer, attackerAddress, packr, sleep } from '../lib/peer.js';

/** Series the flood may add at most: a handful of fixed labels is fine, one per id is not. */
const MAX_NEW_SERIES = 200;
/** A scrape on a loaded 2-core machine: generous. */
const MAX_SCRAPE_MS = 2000;
/** Another peer's PING RTT during scrapes: generous for a loaded 2-core machine. */
const MAX_RTT_MS = 1000;

export const labelFlood: Attack = async (env) => {
  const failures: string[] = [];
  const notes: string[] = [];
  const baseline = await scrape(env.server.metricsUrl!);
  const peer = await RawPeer.connect(env.port, attackerAddress(0));
  await peer.handshake('label-flood');
  const ids = 0xfeff + 1;
  const payload = packr.pack({ x: 1 });
  for (let t = 0; t < ids; t += 1024) {
    const chunk: Buffer[] = [];
    for (let k = t; k < Math.min(ids, t + 1024); k++) chunk.push(request(k, k + 1, payload));
    if (!peer.write(Buffer.concat(chunk))) await new Promise((r) => peer.socket.once('drain', r));
  }
  await peer.until(() => peer.frames.filter((f) => f.kind === Kind.ERROR).length >= ids, env.full ? 60_000 : 30_000);
  const errors = peer.frames.filter((f) => f.kind === Kind.ERROR);
  const codes = new Map<string, number>();
  for (const f of errors) {
    const c = String((packr.unpack(f.payload) as { code?: unknown }).code);
    codes.set(c, (codes.get(c) ?? 0) + 1);
  }
  if (errors.length !== ids) failures.push(`${ids} REQUESTs got ${errors.length} ERROR answers`);
  const notUnknown = [...codes].filter(([c]) => c !== 'UNKNOWN_METHOD');
  if (notUnknown.length) failures.push(`answers other than UNKNOWN_METHOD: ${notUnknown.map(([c, n]) => `${c}×${n}`).join(', ')}`);
  const closeCodes = `${[...codes].map(([c, n]) => `ERROR ${c}×${n}`).join(', ')}; connection ${peer.goaway ? `GOAWAY ${peer.goaway.code}` : peer.closed ? 'closed' : 'open'}`;
  peer.destroy();

  // Scrapes while a good peer pings every 20 ms.
  const pinger = await RawPeer.connect(env.port, '127.0.0.1');
  await pinger.handshake('rtt-probe');
  const rtts: number[] = [];
  let pinging = true;
  const pingLoop = (async () => {
    for (let n = 1; pinging && n < 10_000; n++) {
      const t0 = performance.now();
      if (await pinger.ping(n, 5000)) rtts.push(performance.now() - t0);
      else {
        rtts.push(Infinity);
        break;
      }
      await sleep(20);
    }
  })();
  const scrapes = [];
  for (let k = 0; k < 5; k++) scrapes.push(await scrape(env.server.metricsUrl!));
  pinging = false;
  await pingLoop;
  pinger.destroy();
  const last = scrapes.at(-1)!;
  const maxScrapeMs = Math.max(...scrapes.map((s) => s.ms));
  const maxRtt = Math.max(...rtts);
  notes.push(
    `series ${baseline.series} → ${last.series}; /metrics ${(baseline.bytes / 1024).toFixed(1)} → ${(last.bytes / 1024).toFixed(1)} KiB; scrape max ${maxScrapeMs.toFixed(1)} ms; other peer's PING RTT during scrapes max ${maxRtt.toFixed(1)} ms (${rtts.length} pings)`,
  );
  const errSeries = metricValue(last.text, 'vsockrpc_errors_total');
  if (errSeries !== undefined) notes.push(`first vsockrpc_errors_total sample: ${errSeries}`);
  if (last.series - baseline.series > MAX_NEW_SERIES)
    failures.push(`the flood added ${last.series - baseline.series} series (> ${MAX_NEW_SERIES}): a label per TYPE_ id`);
  if (maxScrapeMs > MAX_SCRAPE_MS) failures.push(`a scrape took ${maxScrapeMs.toFixed(0)} ms`);
  if (maxRtt > MAX_RTT_MS) failures.push(`another peer's PING RTT reached ${maxRtt.toFixed(0)} ms during scrapes`);
  return { sent: `${ids} REQUESTs, one per TYPE_ id 0…0xFEFF; 5 scrapes`, closeCodes, failures, notes };
};

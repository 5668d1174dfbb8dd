/**
 * The host's `connect` thread for `envtest server --wire legacy`: a LegacyServer accepting the
 * C++ envtest's clients (many at once). It speaks to visualize and main exactly as
 * server-connect.ts does (same messages), so the merge, console, export, metrics and summary
 * work unchanged; each connection is one source, named by its CID and port.
 *
 * workerData: {@link ServerConnectConfig}. To main: 'listening' or
 * 'error', 'metrics', 'stopped' ({ stats: { connections, rejected, channelDropped, legacy } }).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Registry as PromRegistry } from 'prom-client';
import { LegacyServer, legacyBatch, type LegacyPeer } from '@vsock-rpc/trace';
import { BatchSender, type AckMessage } from '../channel.js';
import type { ConnectItem, ConnectMessage, ServerConnectConfig } from './server-connect.js';

/** What the summary shows of one legacy source: the server's measurements, never the peer's Δt (it does not travel). */
export interface LegacySourceSummary {
  address: string;
  messages: number;
  /** Clock requests answered. */
  clockExchanges: number;
  /** Age of the peer's correction (its last exchange) when it left or the server stopped, ms; undefined: it never synced (its timestamps are its own clock). */
  correctionAgeMs: number | undefined;
  /** The last reply's T1′ and T2′ (host clock): the server's half of the peer's Δt. */
  lastReplyT1Ns: string | undefined;
  lastReplyT2Ns: string | undefined;
  /** Our estimate: how far off the peer's one-sample Δt can be, from the reply's measured round trip. */
  correctionErrorBoundNs: string | undefined;
  /** Largest (event ts − arrival): > 0 means the peer's corrected stamps were in the host's future by that much. */
  aheadMaxNs: string | undefined;
  /** Why it left (undefined: still connected, or it ended cleanly). */
  closedBy: string | undefined;
}

const MAX_SUMMARIES = 1024;
const cfg = workerData as ServerConnectConfig;
const port = cfg.port;
const parent = parentPort!;
const sender = new BatchSender(port, 400_000);
port.on('message', (m: AckMessage | { type: 'traceAcks' }) => {
  if (m.type === 'ack') sender.ack(m.n);
  // 'traceAcks': the legacy wire has no acknowledgements; nothing to send.
});
const prom = cfg.metrics ? new PromRegistry() : undefined;
let items: ConnectItem[] = [];
let count = 0;
const summaries = new Map<string, LegacySourceSummary>();
const lastSyncMs = new Map<string, number>();

function flush(done = false): void {
  if (items.length === 0 && !done) return;
  const msg: ConnectMessage = { type: 'items', items, count, done };
  if (!sender.send(msg, count)) {
    port.postMessage({ type: 'items', items: items.filter((i) => i.kind !== 'batch'), count: 0, done } satisfies ConnectMessage);
  }
  items = [];
  count = 0;
}

function summarize(p: LegacyPeer, closedBy: string | undefined): void {
  const c = p.clock;
  const synced = lastSyncMs.get(p.source);
  if (!summaries.has(p.source) && summaries.size >= MAX_SUMMARIES) return;
  summaries.set(p.source, {
    address: p.source,
    messages: p.messages,
    clockExchanges: c.exchanges,
    correctionAgeMs: synced === undefined ? undefined : Date.now() - synced,
    lastReplyT1Ns: c.lastT1pNs?.toString(),
    lastReplyT2Ns: c.lastT2pNs?.toString(),
    correctionErrorBoundNs: c.correctionErrorBoundNs?.toString(),
    aheadMaxNs: c.aheadMaxNs?.toString(),
    closedBy,
  });
}

let server: LegacyServer;
try {
  const limits = cfg.limits;
  server = await LegacyServer.listen({
    listen: cfg.listen,
    ...(cfg.allowCids ? { allowCids: cfg.allowCids } : {}),
    maxConnectionsPerCid: limits.maxConnectionsPerCid,
    // 0 means never, as for native guests.
    idleTimeoutMs: limits.idleTimeoutMs > 0 ? limits.idleTimeoutMs : 0x7fffffff,
    frameTimeoutMs: limits.frameBaseMs > 0 ? limits.frameBaseMs : 0x7fffffff,
    maxConnections: limits.maxConnections,
    ...(prom ? { promRegistry: prom } : {}),
    logger: { warn: (m: string) => process.stderr.write(`envtest server: ${m}\n`) },
  });
} catch (err) {
  const e = err as Error & { code?: string };
  parent.postMessage({ type: 'error', message: e.message, code: e.code });
  process.exit(1);
}

server.on('peer', (p) => {
  items.push({ kind: 'peer', source: p.source, address: p.info.address });
  flush();
});
server.on('clock', (p) => lastSyncMs.set(p.source, Date.now()));
server.on('messages', (p, msgs) => {
  items.push({ kind: 'batch', source: p.source, batch: legacyBatch(p, msgs) });
  count += msgs.length;
  if (count >= 8192) flush();
});
server.on('peerClosed', (p, code) => {
  summarize(p, code);
  lastSyncMs.delete(p.source);
  items.push({ kind: 'peerClosed', source: p.source });
  flush();
});
const timer = setInterval(() => flush(), 5);

parent.postMessage({ type: 'listening', address: server.address });

parent.on('message', (m: { type: string }) => {
  if (m.type === 'metrics') {
    void (prom ? prom.getMetricsAsJSON() : Promise.resolve([])).then((metrics) => parent.postMessage({ type: 'metrics', metrics }));
  } else if (m.type === 'stop') {
    void stop();
  }
});

async function stop(): Promise<void> {
  for (const p of server.peers()) summarize(p, undefined);
  await server.close(2000);
  clearInterval(timer);
  flush(true);
  const s = server.stats();
  parent.postMessage({
    type: 'stopped',
    stats: { connections: s.accepted, rejected: s.rejected, channelDropped: sender.stats().dropped, legacy: Object.fromEntries(summaries), closedBy: s.closed },
  });
  port.removeAllListeners('message');
  port.unref();
  parent.removeAllListeners('message');
  parent.unref();
}

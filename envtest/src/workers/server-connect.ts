/**
 * The host's `connect` thread: a ServerEngine accepting many guests. Their batches go to the
 * visualize thread, gathered into one postMessage every few ms; peers joining and leaving, and
 * the agents' status reports, go along in the same ordered stream so that visualize registers a
 * source before its first batch and removes it after its last.
 *
 * workerData: {@link ServerConnectConfig}. From main: 'stop', 'metrics'. To main: 'listening'
 * ({ address }) or 'error' ({ message, code }), 'metrics' ({ metrics }), 'stopped' ({ stats }).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Registry as PromRegistry } from 'prom-client';
import { ServerEngine, type PeerContext, type PeerHandle } from '@vsock-rpc/engine';
import { PeerSources, sendAcks, traceRegistry, type TraceAgentStatus, type TraceBatch } from '@vsock-rpc/trace';
import type { TransportAddress } from '@vsock-rpc/vsock';
import { hostEngineOptions, type HostLimits } from '../host-limits.js';
import { BatchSender, type AckMessage, type TraceAcksMessage } from '../channel.js';

/** Configuration of the connect thread. */
export interface ServerConnectConfig {
  /** To the visualize thread. */
  port: MessagePort;
  listen: string;
  allowCids: number[] | undefined;
  /** Publish engine metrics (for --metrics). */
  metrics: boolean;
  /** What one guest may cost (host-limits.ts). */
  limits: HostLimits;
}

/** One item of the connect → visualize stream. */
export type ConnectItem =
  | { kind: 'peer'; source: string; address: TransportAddress }
  | { kind: 'peerClosed'; source: string }
  | { kind: 'batch'; source: string; batch: TraceBatch }
  | { kind: 'status'; source: string; status: TraceAgentStatus };

/** The message carrying items to visualize. `count` is the number of events (the credit). */
export interface ConnectMessage {
  type: 'items';
  items: ConnectItem[];
  count: number;
  done: boolean;
}

const cfg = workerData as ServerConnectConfig;
const port = cfg.port;
const parent = parentPort!;
const sender = new BatchSender(port, 400_000);
port.on('message', (m: AckMessage) => {
  if (m.type === 'ack') sender.ack(m.n);
});

const prom = cfg.metrics ? new PromRegistry() : undefined;
const peers = new PeerSources();
let items: ConnectItem[] = [];
let count = 0;
let dropped = 0;
const FLUSH_MS = 5;
const MAX_PENDING = 8192;

function flush(done = false): void {
  if (items.length === 0 && !done) return;
  const msg: ConnectMessage = { type: 'items', items, count, done };
  if (!sender.send(msg, count)) {
    // The batch is dropped (counted by the sender), but peer lifecycle items must get through:
    // without them visualize would wait for a source that is gone.
    const control = items.filter((i) => i.kind !== 'batch');
    port.postMessage({ type: 'items', items: control, count: 0, done } satisfies ConnectMessage);
  }
  items = [];
  count = 0;
}

function sourceOf(peer: PeerContext): string {
  const { source, isNew } = peers.sourceOf(peer);
  if (isNew) items.push({ kind: 'peer', source, address: peer.address });
  return source;
}

let server: ServerEngine<typeof traceRegistry>;
try {
  server = await ServerEngine.listen(cfg.listen, {
    ...hostEngineOptions(cfg.limits),
    registry: traceRegistry,
    name: 'envtest-server',
    allowCids: cfg.allowCids,
    promRegistry: prom,
    logger: { warn: (m: string) => process.stderr.write(`envtest server: ${m}\n`) },
  });
} catch (err) {
  const e = err as Error & { code?: string };
  parent.postMessage({ type: 'error', message: e.message, code: e.code });
  process.exit(1); // a worker's process.exit ends only this thread
}

server.on('peer', (peer) => {
  sourceOf(peer.context);
  flush();
});
server.on('peerClosed', (peer: PeerContext) => {
  const source = peers.release(peer);
  if (source !== undefined) items.push({ kind: 'peerClosed', source });
  flush();
});
server.on('traceBatch', (batch, peer) => {
  const source = sourceOf(peer);
  items.push({ kind: 'batch', source, batch });
  count += batch.events.length;
  if (count >= MAX_PENDING) flush();
});
server.on('traceAgentStatus', (status, peer) => {
  items.push({ kind: 'status', source: sourceOf(peer), status });
});
const timer = setInterval(() => flush(), FLUSH_MS);

// ---- Acknowledgements to the guests (issue 11; packages/trace/README.md, "Delivery") ----
// visualize decides what is accounted for (its Timeline) and posts 'traceAcks'; this thread owns
// the connections, so it sends each ack to the live connection of that source. Additive: these
// listeners run after the ones above (which name the source first).
const ackPeers = new Map<string, PeerHandle<typeof traceRegistry>>();
const ackSourceOf = new Map<number, string>();
server.on('peer', (peer: PeerHandle<typeof traceRegistry>) => {
  const { source } = peers.sourceOf(peer.context);
  ackPeers.set(source, peer);
  ackSourceOf.set(peer.context.connectionId, source);
});
server.on('peerClosed', (peer: PeerContext) => {
  const source = ackSourceOf.get(peer.connectionId);
  ackSourceOf.delete(peer.connectionId);
  if (source !== undefined && ackPeers.get(source)?.context.connectionId === peer.connectionId) ackPeers.delete(source);
});
port.on('message', (m: TraceAcksMessage | AckMessage) => {
  if (m.type === 'traceAcks') sendAcks(m.acks, (source) => ackPeers.get(source));
});
// ---- end of acknowledgements ----

parent.postMessage({ type: 'listening', address: server.address });

parent.on('message', (m: { type: string }) => {
  if (m.type === 'metrics') {
    void (prom ? prom.getMetricsAsJSON() : Promise.resolve([])).then((metrics) => parent.postMessage({ type: 'metrics', metrics }));
  } else if (m.type === 'stop') {
    void stop();
  }
});

async function stop(): Promise<void> {
  // Closing sends GOAWAY and waits for the connections; batches received meanwhile still flow.
  await server.close(2000);
  clearInterval(timer);
  flush(true);
  const s = server.stats();
  dropped = sender.stats().dropped;
  parent.postMessage({ type: 'stopped', stats: { connections: s.connections, rejected: s.rejected, channelDropped: dropped } });
  port.removeAllListeners('message');
  port.unref();
  parent.removeAllListeners('message');
  parent.unref();
}

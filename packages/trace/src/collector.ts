/**
 * The host side of tracing: a {@link Collector} accepts many agents on one address and merges
 * their events, and the host's own, into one timeline in host-clock order.
 *
 * @packageDocumentation
 */
import { ServerEngine, type PeerContext, type PeerHandle, type ServerEngineOptions, type TransportAddress } from '@vsock-rpc/engine';
import { traceRegistry, type TraceRegistry } from './registry.js';
import { CollectorBase, splitTimelineOptions } from './collector-base.js';
import { Timeline, type SourceAck, type TimelineOptions, type TimelineStats } from './timeline.js';
import { createLegacyCollector, type LegacyCollector, type LegacyCollectorOptions } from './legacy-collector.js';

/**
 * Gives each connected peer a unique source name: its HELLO name, or `name#<connectionId>` when
 * another live connection already uses that name (two guests configured alike must not merge
 * into one source, whose seq and watermark would then be nonsense).
 */
export class PeerSources {
  readonly #byConnection = new Map<number, string>();
  readonly #inUse = new Set<string>();

  /** The source name of `peer`, assigned on first sight. `isNew` tells whether it was assigned now. */
  sourceOf(peer: PeerContext): { source: string; isNew: boolean } {
    const known = this.#byConnection.get(peer.connectionId);
    if (known !== undefined) return { source: known, isNew: false };
    const source = this.#inUse.has(peer.name) ? `${peer.name}#${peer.connectionId}` : peer.name;
    this.#byConnection.set(peer.connectionId, source);
    this.#inUse.add(source);
    return { source, isNew: true };
  }

  /** Forget `peer` (disconnected); returns its source name if it had one. */
  release(peer: PeerContext): string | undefined {
    const source = this.#byConnection.get(peer.connectionId);
    if (source === undefined) return undefined;
    this.#byConnection.delete(peer.connectionId);
    this.#inUse.delete(source);
    return source;
  }
}

/** Default interval of acknowledgements to the agents, ms. */
export const DEFAULT_ACK_INTERVAL_MS = 25;

/**
 * Sends acknowledgements due (from `Timeline.takeAcks`) as `traceAck` to the connections of
 * their sources. `peerOf` maps a source to its live connection; a source without one (it left)
 * is skipped: its agent resends after reconnecting and the dedup drops what was already merged.
 * Shared by the {@link Collector} and envtest's server, whose timeline runs in another thread.
 *
 * @returns how many acks were sent.
 */
export function sendAcks(acks: readonly SourceAck[], peerOf: (source: string) => Pick<PeerHandle<TraceRegistry>, 'send'> | undefined): number {
  let n = 0;
  for (const { source, seq } of acks) {
    const peer = peerOf(source);
    if (peer === undefined) continue;
    try {
      void peer.send('traceAck', { seq });
      n++;
    } catch {
      // Its queue refused (full or closing): the next ack is cumulative and covers this one.
    }
  }
  return n;
}

/** Options of {@link createCollector}: the server's options (minus the registry) plus the timeline's. */
export interface CollectorOptions extends Omit<ServerEngineOptions<TraceRegistry>, 'registry'>, TimelineOptions {
  /** Where to listen: 'vsock://any:11451', 'unix:///run/t.sock', 'tcp://0.0.0.0:9000', 'hybrid:///path:port'. */
  listen: TransportAddress | string;
  /** How often acknowledgements go to the agents, ms (default 25): acks are coalesced per source. */
  ackIntervalMs?: number;
  /** The wire: vsock-rpc (default). `'legacy'` takes {@link LegacyCollectorOptions} instead. */
  wire?: 'native';
}

/** Counters of a {@link Collector}: the timeline's, plus connections. */
export interface CollectorStats extends TimelineStats {
  /** Peers connected now. */
  connections: number;
  /** Peers refused (allowlist, limits). */
  rejected: number;
}

/**
 * A trace collector: a {@link ServerEngine} speaking {@link traceRegistry} and a
 * {@link Timeline}. Each connected agent is a source, named by its verified HELLO name (never
 * by what its batches claim), registered on connect and removed on disconnect. Merged events
 * come out in non-decreasing `ts` order through `onEvents` and/or {@link Collector.events}.
 *
 * Create it with {@link createCollector}.
 */
export class Collector extends CollectorBase {
  /** The server underneath (address, peers, metrics, lifecycle events). */
  readonly server: ServerEngine<TraceRegistry>;
  readonly #peers = new PeerSources();
  /** Live connection of each guest source, for acks. */
  readonly #handles = new Map<string, PeerHandle<TraceRegistry>>();
  readonly #ackTimer: NodeJS.Timeout;
  #closed = false;

  /** @internal Use {@link createCollector}. */
  constructor(server: ServerEngine<TraceRegistry>, options: TimelineOptions & { ackIntervalMs?: number }) {
    const { ackIntervalMs, ...timelineOptions } = options;
    super(new Timeline({ now: server.now, ...timelineOptions }));
    this.server = server;
    server.on('peer', (peer) => this.#handles.set(this.#source(peer.context), peer));
    server.on('peerClosed', (peer: PeerContext) => {
      const source = this.#peers.release(peer);
      if (source !== undefined) {
        this.#handles.delete(source);
        this.timeline.removeSource(source);
      }
    });
    // Acks are cumulative and coalesced: one per source per tick at most, only when it advanced.
    this.#ackTimer = setInterval(() => sendAcks(this.timeline.takeAcks(), (s) => this.#handles.get(s)), Math.max(1, ackIntervalMs ?? DEFAULT_ACK_INTERVAL_MS));
    this.#ackTimer.unref();
    server.on('traceBatch', (batch, peer) => this.timeline.pushBatch(this.#source(peer), batch));
    server.on('traceAgentStatus', (status, peer) => this.timeline.setAgentStatus(this.#source(peer), status));
  }

  /** Counters. */
  stats(): CollectorStats {
    const s = this.server.stats();
    return { ...this.timeline.stats(), connections: s.connections, rejected: s.rejected };
  }

  /**
   * Close: stop accepting, close the connections (waiting at most `timeoutMs` for them), then
   * flush the merge (everything received comes out) and end the iterator.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ackTimer);
    await this.server.close(timeoutMs);
    this.timeline.close();
  }

  #source(peer: PeerContext): string {
    const { source, isNew } = this.#peers.sourceOf(peer);
    if (isNew) this.timeline.addSource(source);
    return source;
  }
}

/**
 * Listen for tracing agents and merge their events.
 *
 * @example
 * ```ts
 * const collector = await createCollector({
 *   listen: 'vsock://any:11451',
 *   onEvents: (events) => exporter.write(events),
 * });
 * collector.addLocal([{ source: 'host', seq: 0, ts, origTs: ts, errorBoundNs: 0n, kind: 'message', text: 'HI' }]);
 * await collector.close();
 * ```
 * @throws the transport's listen errors (address in use, CID not bindable).
 */
export function createCollector(options: CollectorOptions): Promise<Collector>;
/**
 * Listen for the C++ envtest's clients (the legacy wire, e.g. on 'vsock://any:47916'), many at
 * once, and merge their events: see {@link LegacyCollector}.
 */
export function createCollector(options: LegacyCollectorOptions): Promise<LegacyCollector>;
export async function createCollector(options: CollectorOptions | LegacyCollectorOptions): Promise<Collector | LegacyCollector> {
  if (options.wire === 'legacy') return createLegacyCollector(options);
  const { timeline: timelineOptions, rest: serverOptions } = splitTimelineOptions(options);
  const ackIntervalMs = serverOptions['ackIntervalMs'] as number | undefined;
  delete serverOptions['ackIntervalMs'];
  delete serverOptions['listen'];
  delete serverOptions['wire'];
  const server = await ServerEngine.listen(options.listen, {
    ...(serverOptions as Omit<ServerEngineOptions<TraceRegistry>, 'registry'>),
    registry: traceRegistry,
  });
  return new Collector(server, ackIntervalMs === undefined ? timelineOptions : { ...timelineOptions, ackIntervalMs });
}

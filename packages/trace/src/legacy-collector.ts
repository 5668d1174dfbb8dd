/**
 * A collector for legacy clients: a {@link LegacyServer} feeding a {@link Timeline}. Each
 * connection is one source (named by its CID and port); its messageexp events are merged with
 * the host's own, as they are already in the host clock (the client subtracted its Δt).
 *
 * @packageDocumentation
 */
import { LegacyServer, type LegacyPeer, type LegacyServerOptions, type LegacyServerStats } from './legacy-server.js';
import { CollectorBase, splitTimelineOptions } from './collector-base.js';
import { Timeline, type TimelineOptions, type TimelineStats } from './timeline.js';
import type { LegacyMessageexp } from '@vsock-rpc/legacy';
import type { TraceBatch } from './schema.js';

/** Options of `createCollector({ wire: 'legacy', ... })`. */
export interface LegacyCollectorOptions extends LegacyServerOptions, TimelineOptions {
  /** Choose the legacy wire (the C++ envtest's). */
  wire: 'legacy';
}

/** Counters of a {@link LegacyCollector}: the timeline's, plus the server's. */
export interface LegacyCollectorStats extends TimelineStats {
  connections: number;
  rejected: number;
  legacy: LegacyServerStats;
}

/**
 * The legacy messages of one chunk as a trace batch for a {@link Timeline}: `seq` numbered by
 * the host per connection (the wire has none), `ts` = `origTs` = the received timestamp, the
 * error bound the host measured for the peer's correction (0 until it has one), and the last
 * timestamp as the watermark (a legacy client sends in order).
 */
export function legacyBatch(peer: LegacyPeer, messages: readonly LegacyMessageexp[]): TraceBatch {
  const bound = peer.clock.correctionErrorBoundNs ?? 0n;
  let seq = peer.messages - messages.length;
  const events = messages.map((m) => ({ seq: seq++, ts: m.timestamp, origTs: m.timestamp, errorBoundNs: bound, kind: 'message', text: m.text }));
  const batch: TraceBatch = { source: peer.source, events };
  const last = messages[messages.length - 1];
  if (last !== undefined) batch.watermark = last.timestamp;
  return batch;
}

/**
 * Legacy clients merged into one timeline, with host events added by {@link addLocal}.
 * Create it with `createCollector({ wire: 'legacy', listen: 'vsock://any:47916' })`.
 */
export class LegacyCollector extends CollectorBase {
  readonly wire = 'legacy' as const;
  /** The server underneath. */
  readonly server: LegacyServer;
  #closed = false;

  /** @internal */
  constructor(server: LegacyServer, options: TimelineOptions) {
    super(new Timeline({ now: () => server.now(), ...options }));
    this.server = server;
    server.on('peer', (p) => this.timeline.addSource(p.source));
    server.on('messages', (p, msgs) => this.timeline.pushBatch(p.source, legacyBatch(p, msgs)));
    server.on('peerClosed', (p) => this.timeline.removeSource(p.source));
  }

  /** Counters. */
  stats(): LegacyCollectorStats {
    const s = this.server.stats();
    return { ...this.timeline.stats(), connections: s.connections, rejected: s.rejected, legacy: s };
  }

  /** Stop accepting, close the peers, flush the merge and end the iterator. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.server.close(timeoutMs);
    this.timeline.close();
  }
}

/** @internal `createCollector({ wire: 'legacy' })`. */
export async function createLegacyCollector(options: LegacyCollectorOptions): Promise<LegacyCollector> {
  const { timeline } = splitTimelineOptions(options);
  const server = await LegacyServer.listen(options);
  return new LegacyCollector(server, timeline);
}

/**
 * What every collector is, whatever wire its guests speak (collector.ts for vsock-rpc agents,
 * legacy-collector.ts for the C++ original's clients): a merged {@link Timeline}, the host's own
 * local sources added to it, and the merged events as an async iterator.
 */
import type { TraceEvent } from './schema.js';
import type { Timeline, TimelineOptions } from './timeline.js';

/** The option keys a collector hands to its {@link Timeline}; the rest go to its server. */
export const TIMELINE_KEYS = [
  'latenessNs',
  'maxBuffered',
  'now',
  'onEvents',
  'onLate',
  'maxQueued',
  'startupHoldNs',
  'maxFutureNs',
  'minSourceShare',
  'maxSeqGap',
  'maxRetiredSources',
] as const satisfies readonly (keyof TimelineOptions)[];

/** Splits `options` into the timeline's and everything else (a copy without those keys). */
export function splitTimelineOptions(options: object): { timeline: TimelineOptions; rest: Record<string, unknown> } {
  const rest: Record<string, unknown> = { ...options };
  const timeline: Record<string, unknown> = {};
  for (const k of TIMELINE_KEYS) {
    if (rest[k] !== undefined) timeline[k] = rest[k];
    delete rest[k];
  }
  return { timeline: timeline as TimelineOptions, rest };
}

/** The merged timeline of a collector, and the host's local sources in it. */
export abstract class CollectorBase {
  /** The merged timeline. */
  readonly timeline: Timeline;
  readonly #local = new Set<string>();

  protected constructor(timeline: Timeline) {
    this.timeline = timeline;
  }

  /**
   * Add host-side events (`ts` on the host clock, in non-decreasing order per source). A local
   * source is registered on first use and from then on holds the timeline back like a guest:
   * keep it moving with events or {@link advance}, or end it with {@link removeLocal}.
   *
   * @param watermark - optional promise: nothing older will come from these sources.
   */
  addLocal(events: readonly TraceEvent[], watermark?: bigint): void {
    for (const e of events) {
      if (!this.#local.has(e.source)) {
        this.#local.add(e.source);
        this.timeline.addSource(e.source);
      }
    }
    this.timeline.addLocal(events, watermark);
  }

  /** Promise that local `source` has nothing older than `watermark` (a host heartbeat). */
  advance(source: string, watermark: bigint): void {
    this.timeline.advance(source, watermark);
  }

  /** Stop waiting for local `source`. */
  removeLocal(source: string): void {
    if (this.#local.delete(source)) this.timeline.removeSource(source);
  }

  /** The merged events, one at a time (see {@link Timeline.events}). */
  events(): AsyncGenerator<TraceEvent> {
    return this.timeline.events();
  }

  [Symbol.asyncIterator](): AsyncGenerator<TraceEvent> {
    return this.events();
  }
}

/**
 * The wire registry of the trace protocol: what a tracing agent (guest) and a collector (host)
 * exchange.
 *
 * TYPE_ ids `0x7000 … 0x70FF` belong to `@vsock-rpc/trace`. They sit far above the small ids
 * applications pick by hand (the C++ demo's enum starts at 0), so an application can merge this
 * registry into its own with `mergeRegistries` without renumbering anything.
 *
 * @packageDocumentation
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineRegistry } from '@vsock-rpc/wire';
import { MAX_SOURCE_LENGTH, TraceBatch } from './schema.js';

/** First TYPE_ id of the range reserved for trace messages. */
export const TRACE_TYPE_ID_MIN = 0x7000;
/** Last TYPE_ id of the range reserved for trace messages. */
export const TRACE_TYPE_ID_MAX = 0x70ff;

/** TYPE_ ids of the trace messages. Never renumber one: the id is the wire identity. */
export const TraceTypeIds = {
  /** {@link TraceBatch}: agent → collector, events of one source, or a heartbeat. */
  traceBatch: 0x7000,
  /** {@link TraceAgentStatus}: agent → collector, the agent's counters and clock estimate. */
  traceAgentStatus: 0x7001,
  /** {@link TraceAck}: collector → agent, "everything of yours up to `seq` is accounted for". */
  traceAck: 0x7002,
} as const;

/**
 * The collector's cumulative acknowledgement to one agent: every event of this connection's
 * source with `seq` ≤ `seq` has been received and accounted for by the host (released into the
 * timeline, or counted there as late, future, overflow or duplicate). The agent may forget
 * those events; it keeps the others and resends them after a reconnect (see
 * packages/trace/README.md, "Delivery"). Sent coalesced (at most every few tens of ms), only
 * when the position advanced. The source is implied by the connection: an ack names no source,
 * so it cannot be aimed at another agent.
 */
export const TraceAck = Type.Object(
  {
    /** Highest `seq` up to which everything is accounted for. */
    seq: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
/** Static type of {@link TraceAck}. */
export type TraceAck = Static<typeof TraceAck>;

/**
 * The agent's clock estimate, as reported to the collector. bigint ns; `lastSyncAgeMs` is how
 * long ago (agent's clock) the estimate was refreshed, -1 if it never was.
 */
export const TraceClockReport = Type.Object(
  {
    /** Agent clock minus host clock (ns). */
    offsetNs: Type.BigInt(),
    /** Error bound of the offset (ns). */
    errorBoundNs: Type.BigInt({ minimum: 0n }),
    /** Estimated drift of the agent clock against the host's, ppm. */
    driftPpm: Type.Number(),
    /** Age of the last sync in ms, -1 when never synced. */
    lastSyncAgeMs: Type.Number(),
  },
  { additionalProperties: false },
);
/** Static type of {@link TraceClockReport}. */
export type TraceClockReport = Static<typeof TraceClockReport>;

/**
 * An agent's counters, sent periodically and on close. The collector cannot see events dropped
 * inside a guest (its buffer was full) any other way, and a summary that says "nothing dropped"
 * must be able to mean it end to end.
 */
export const TraceAgentStatus = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: MAX_SOURCE_LENGTH }),
    /** Events given to `emit`. */
    emitted: Type.Integer({ minimum: 0 }),
    /** Events handed to the engine in batches. */
    sent: Type.Integer({ minimum: 0 }),
    /** Events dropped because the agent's buffer was full. */
    dropped: Type.Integer({ minimum: 0 }),
    /** Events whose converted ts was raised to keep the source's ts non-decreasing. */
    clamped: Type.Integer({ minimum: 0 }),
    clock: Type.Optional(TraceClockReport),
  },
  { additionalProperties: false },
);
/** Static type of {@link TraceAgentStatus}. */
export type TraceAgentStatus = Static<typeof TraceAgentStatus>;

/**
 * The registry both ends of a trace connection use (`ClientEngine.connect(addr, { registry })`
 * in the guest, `ServerEngine.listen(addr, { registry })` on the host).
 */
export const traceRegistry = defineRegistry({
  messages: {
    traceBatch: {
      id: TraceTypeIds.traceBatch,
      schema: TraceBatch,
      description: 'Trace events of one source (ts in the host clock domain), or an empty heartbeat with a watermark',
    },
    traceAgentStatus: {
      id: TraceTypeIds.traceAgentStatus,
      schema: TraceAgentStatus,
      description: "An agent's counters and clock estimate",
    },
    traceAck: {
      id: TraceTypeIds.traceAck,
      schema: TraceAck,
      description: 'Collector to agent: every event up to seq is accounted for (cumulative ack)',
    },
  },
});
/** Type of {@link traceRegistry}. */
export type TraceRegistry = typeof traceRegistry;

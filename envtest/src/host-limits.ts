/**
 * What `envtest server` allows one guest, in one place. The host sits on a VM boundary and every
 * guest is treated as hostile (ARCHITECTURE.md, "A guest is hostile"): these bounds make the cost
 * of any one guest small and fixed, whatever it sends, while an honest `envtest client` never
 * comes near them.
 */
import type { ServerEngineOptions } from '@vsock-rpc/engine';
import type { traceRegistry } from '@vsock-rpc/trace';
import { numberOpt, type OptionSpec, type ParsedValues } from './args.js';

/** The limits the connect thread gives its ServerEngine. Plain data: it crosses to a worker. */
export interface HostLimits {
  /** Largest payload a guest may send (bytes). */
  readonly maxFrame: number;
  /** A guest's HELLO must arrive within this many ms of connecting. */
  readonly handshakeTimeoutMs: number;
  /** Close a guest with no complete frame for this many ms. */
  readonly idleTimeoutMs: number;
  /** Any frame may take this long, plus its size at `minFrameBytesPerSecond`. */
  readonly frameBaseMs: number;
  readonly minFrameBytesPerSecond: number;
  /** Sustained bytes per second read from one guest. */
  readonly bytesPerSecond: number;
  /** Sustained CPU ms per second the connect thread spends on one guest. */
  readonly cpuMsPerSecond: number;
  /** Close a guest held back by its budget this long without a break. */
  readonly closeAfterThrottledMs: number;
  /** Connections of one guest (vsock CID, TCP address). */
  readonly maxConnectionsPerCid: number;
  /** Connections in all. */
  readonly maxConnections: number;
  /** Every other time limit of the engine (keepalive) is scaled by this (--timeout-scale). */
  readonly timeoutScale: number;
}

/**
 * The defaults, and why:
 * - 256 KiB frames: the agent cuts its batches at 64 KiB, and the largest event the trace
 *   schema allows (a 4096-character text, 16 fields) fits; the costliest valid 256 KiB frame
 *   (thousands of small fields) decodes in about 10 ms, so no frame a guest can send stalls the
 *   thread that serves the other guests for longer.
 * - 5 s handshake, 15 s idle (three missed 5 s keepalives), 5 s + 64 KiB/s per frame: a guest
 *   that connects and stalls, or trickles a frame, holds a slot and a buffer only that long.
 * - 32 MiB/s and a quarter of a core per guest: ten times what a busy client sends, so only a
 *   peer trying to hog the host is ever slowed.
 */
export const DEFAULT_HOST_LIMITS: HostLimits = {
  maxFrame: 256 * 1024,
  handshakeTimeoutMs: 5000,
  idleTimeoutMs: 15_000,
  frameBaseMs: 5000,
  minFrameBytesPerSecond: 64 * 1024,
  bytesPerSecond: 32 * 1024 * 1024,
  cpuMsPerSecond: 250,
  closeAfterThrottledMs: 30_000,
  maxConnectionsPerCid: 64,
  maxConnections: 1024,
  timeoutScale: 1,
};

/** The command-line flags that override {@link DEFAULT_HOST_LIMITS}. */
export const HOST_LIMIT_FLAGS: Readonly<Record<string, OptionSpec>> = {
  'max-frame': { type: 'string', value: 'BYTES', help: `largest frame a guest may send (default ${DEFAULT_HOST_LIMITS.maxFrame}, 1024 … 1073741824)` },
  'handshake-timeout-ms': { type: 'string', value: 'MS', help: `a guest's HELLO must arrive within MS (default ${DEFAULT_HOST_LIMITS.handshakeTimeoutMs})` },
  'idle-timeout-ms': {
    type: 'string',
    value: 'MS',
    help: `close a guest with no complete frame for MS (default ${DEFAULT_HOST_LIMITS.idleTimeoutMs}; 0: never)`,
  },
  'frame-timeout-ms': {
    type: 'string',
    value: 'MS',
    help: `any frame may take MS plus its size at --min-frame-rate (default ${DEFAULT_HOST_LIMITS.frameBaseMs})`,
  },
  'min-frame-rate': {
    type: 'string',
    value: 'B/S',
    help: `slowest rate a frame may arrive at, bytes/s (default ${DEFAULT_HOST_LIMITS.minFrameBytesPerSecond})`,
  },
  'guest-cpu-ms': {
    type: 'string',
    value: 'MS',
    help: `CPU ms per second one guest may cost before it is slowed (default ${DEFAULT_HOST_LIMITS.cpuMsPerSecond}; 0: unlimited)`,
  },
  'guest-bytes': {
    type: 'string',
    value: 'B/S',
    help: `bytes per second one guest may send before it is slowed (default ${DEFAULT_HOST_LIMITS.bytesPerSecond}; 0: unlimited)`,
  },
  'timeout-scale': {
    type: 'string',
    value: 'N',
    help: 'multiply every time limit by N for slow guests (handshake, idle, keepalive, frame deadlines); a scaled limit is still a limit (default 1)',
  },
  'max-connections-per-cid': {
    type: 'string',
    value: 'N',
    help: `connections of one guest (CID or TCP address) (default ${DEFAULT_HOST_LIMITS.maxConnectionsPerCid})`,
  },
};

/** The limits from parsed flags (defaults where a flag is absent). @throws UsageError on a bad value. */
export function hostLimitsFromArgs(v: ParsedValues): HostLimits {
  const d = DEFAULT_HOST_LIMITS;
  // --timeout-scale stretches the defaults; a time flag given explicitly is taken as it is.
  const s = numberOpt(v, 'timeout-scale', { min: 0.001, max: 10_000 }) ?? 1;
  return {
    ...d,
    timeoutScale: s,
    maxFrame: numberOpt(v, 'max-frame', { min: 1024, max: 2 ** 30, integer: true }) ?? d.maxFrame,
    handshakeTimeoutMs: numberOpt(v, 'handshake-timeout-ms', { min: 1, integer: true }) ?? d.handshakeTimeoutMs * s,
    idleTimeoutMs: numberOpt(v, 'idle-timeout-ms', { min: 0, integer: true }) ?? d.idleTimeoutMs * s,
    frameBaseMs: numberOpt(v, 'frame-timeout-ms', { min: 1, integer: true }) ?? d.frameBaseMs * s,
    minFrameBytesPerSecond: numberOpt(v, 'min-frame-rate', { min: 1 }) ?? d.minFrameBytesPerSecond / s,
    cpuMsPerSecond: numberOpt(v, 'guest-cpu-ms', { min: 0 }) ?? d.cpuMsPerSecond,
    bytesPerSecond: numberOpt(v, 'guest-bytes', { min: 0 }) ?? d.bytesPerSecond,
    maxConnectionsPerCid: numberOpt(v, 'max-connections-per-cid', { min: 1, integer: true }) ?? d.maxConnectionsPerCid,
  };
}

/** The ServerEngine options that enforce `limits`. */
export function hostEngineOptions(limits: HostLimits): Partial<ServerEngineOptions<typeof traceRegistry>> {
  return {
    maxFrame: limits.maxFrame,
    timeoutScale: limits.timeoutScale,
    handshakeTimeoutMs: limits.handshakeTimeoutMs,
    idleTimeoutMs: limits.idleTimeoutMs,
    frameDeadline: { baseMs: limits.frameBaseMs, minBytesPerSecond: limits.minFrameBytesPerSecond },
    budget: {
      // 0 on the command line means unlimited, which the budget spells as "absent".
      ...(limits.bytesPerSecond > 0 ? { bytesPerSecond: limits.bytesPerSecond } : {}),
      ...(limits.cpuMsPerSecond > 0 ? { cpuMsPerSecond: limits.cpuMsPerSecond } : {}),
      closeAfterThrottledMs: limits.closeAfterThrottledMs,
    },
    maxConnectionsPerCid: limits.maxConnectionsPerCid,
    maxConnections: limits.maxConnections,
  };
}

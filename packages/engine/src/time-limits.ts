/**
 * Every time limit of the protocol, in one place, and the one knob that scales them all. A slow
 * guest (an overcommitted host, a CPU quota, nested or emulated virtualisation) may need minutes
 * for what a normal one does in milliseconds: with `timeoutScale: N` every default below is N
 * times as long (and the minimum frame rate N times as low), while a limit set explicitly stays
 * as set. A scaled limit is still a limit: the host's defences against slow-handshake floods and
 * trickled frames (ARCHITECTURE.md, "A guest is hostile") keep working, only later.
 */

/** The defaults at scale 1, in ms (PROTOCOL.md §2, §5 name the ones on the wire). */
export const DEFAULT_TIME_LIMITS = {
  /** A peer's HELLO must arrive within this of the connection's start (HANDSHAKE_TIMEOUT). */
  handshakeTimeoutMs: 10_000,
  /** PING after this long without a complete frame. */
  keepaliveMs: 5000,
  /** Any frame may take this long, plus its size at `minFrameBytesPerSecond` (FRAME_TIMEOUT). */
  frameBaseMs: 10_000,
  /** The slowest rate at which a frame's bytes may arrive, bytes/s. */
  minFrameBytesPerSecond: 64 * 1024,
  /** One connection attempt of a ClientEngine (dial and HELLO). */
  connectTimeoutMs: 5000,
  /** How long a call made while disconnected waits for a connection. */
  callWaitMs: 10_000,
  /** One clock exchange's answer. */
  clockExchangeTimeoutMs: 1000,
} as const;

/** The time limits an engine runs with, after scaling. */
export interface TimeLimits {
  readonly handshakeTimeoutMs: number;
  readonly keepaliveMs: number;
  /** 0 disables; default 3 × keepaliveMs. */
  readonly idleTimeoutMs: number;
  readonly frameBaseMs: number;
  readonly minFrameBytesPerSecond: number;
  readonly connectTimeoutMs: number;
  readonly callWaitMs: number;
  readonly clockExchangeTimeoutMs: number;
}

/** What an engine's options may say about time: the scale, and per-limit overrides. */
export interface TimeLimitOptions {
  readonly timeoutScale?: number;
  readonly handshakeTimeoutMs?: number;
  readonly keepaliveMs?: number;
  readonly idleTimeoutMs?: number;
  readonly frameDeadline?: { readonly baseMs?: number; readonly minBytesPerSecond?: number };
  readonly connectTimeoutMs?: number;
  readonly callWaitMs?: number;
}

/**
 * The limits for `options`: an explicit option wins; anything else is its default × `timeoutScale`
 * (a scale that is not a positive finite number counts as 1; the engines check it first).
 */
export function resolveTimeLimits(options: TimeLimitOptions): TimeLimits {
  const s = options.timeoutScale !== undefined && Number.isFinite(options.timeoutScale) && options.timeoutScale > 0 ? options.timeoutScale : 1;
  const d = DEFAULT_TIME_LIMITS;
  const keepaliveMs = options.keepaliveMs ?? d.keepaliveMs * s;
  return {
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? d.handshakeTimeoutMs * s,
    keepaliveMs,
    idleTimeoutMs: options.idleTimeoutMs ?? keepaliveMs * 3,
    frameBaseMs: options.frameDeadline?.baseMs ?? d.frameBaseMs * s,
    minFrameBytesPerSecond: options.frameDeadline?.minBytesPerSecond ?? d.minFrameBytesPerSecond / s,
    connectTimeoutMs: options.connectTimeoutMs ?? d.connectTimeoutMs * s,
    callWaitMs: options.callWaitMs ?? d.callWaitMs * s,
    clockExchangeTimeoutMs: d.clockExchangeTimeoutMs * s,
  };
}

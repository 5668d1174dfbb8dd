/**
 * Timeouts that scale (issue 18): one `timeoutScale` stretches every default time limit for a slow
 * guest, explicit limits stay as set, and a limit that passes says which knob raises it.
 */
import { describe, expect, it } from 'vitest';
import { ControlType } from '@vsock-rpc/wire';
import { DEFAULT_TIME_LIMITS, resolveTimeLimits } from '../src/time-limits.js';
import { ServerEngine } from '../src/index.js';
import { collectingLogger, helloFrame, rawConnect, startServer, testRegistry, urlOf, useCleanup, sleep } from './helpers.js';

useCleanup();

describe('resolveTimeLimits', () => {
  it('scales every default, keeps explicit limits, and lowers the minimum frame rate', () => {
    const d = DEFAULT_TIME_LIMITS;
    expect(resolveTimeLimits({})).toEqual({
      handshakeTimeoutMs: d.handshakeTimeoutMs,
      keepaliveMs: d.keepaliveMs,
      idleTimeoutMs: 3 * d.keepaliveMs,
      frameBaseMs: d.frameBaseMs,
      minFrameBytesPerSecond: d.minFrameBytesPerSecond,
      connectTimeoutMs: d.connectTimeoutMs,
      callWaitMs: d.callWaitMs,
      clockExchangeTimeoutMs: d.clockExchangeTimeoutMs,
    });
    const ten = resolveTimeLimits({ timeoutScale: 10 });
    expect(ten.handshakeTimeoutMs).toBe(10 * d.handshakeTimeoutMs);
    expect(ten.idleTimeoutMs).toBe(30 * d.keepaliveMs);
    expect(ten.minFrameBytesPerSecond).toBe(d.minFrameBytesPerSecond / 10);
    expect(ten.clockExchangeTimeoutMs).toBe(10 * d.clockExchangeTimeoutMs);
    const mixed = resolveTimeLimits({ timeoutScale: 10, handshakeTimeoutMs: 1234, frameDeadline: { baseMs: 50 } });
    expect(mixed.handshakeTimeoutMs).toBe(1234);
    expect(mixed.frameBaseMs).toBe(50);
    expect(mixed.keepaliveMs).toBe(10 * d.keepaliveMs);
  });

  it('an engine refuses a scale that is not a positive number', async () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(ServerEngine.listen('tcp://127.0.0.1:0', { registry: testRegistry, logger: null, timeoutScale: bad })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARG_VALUE',
      });
    }
  });
});

describe('a slow peer and the scaled handshake', () => {
  /** A peer that takes `delayMs` to say HELLO: what does a server with `timeoutScale` make of it? */
  async function slowHello(timeoutScale: number, delayMs: number) {
    const logger = collectingLogger();
    const server = await startServer('unix', { logger, timeoutScale });
    const raw = await rawConnect(urlOf(server));
    await raw.frame((f) => f.type === ControlType.HELLO, 'the server HELLO');
    await sleep(delayMs);
    if (!raw.socket.destroyed) raw.write(helloFrame());
    await sleep(200);
    return { server, raw, logger };
  }

  it('at scale 0.03 (a 300 ms handshake) a peer 1.5 s late is refused, and the message names the knob', async () => {
    const { raw, logger } = await slowHello(0.03, 1500);
    expect(await raw.goaway()).toBe('HANDSHAKE_TIMEOUT');
    const line = logger.matching(/no HELLO/)[0] ?? '';
    expect(line).toMatch(
      /within 0\.3 s: the peer is slow or is not a vsock-rpc endpoint \(raise timeoutScale, now 0\.03, for slow guests; envtest: --timeout-scale\)/,
    );
  });

  it('at scale 0.5 (a 5 s handshake) the same peer gets in', async () => {
    const { server, raw } = await slowHello(0.5, 1500);
    expect(server.peers().map((p) => p.context.name)).toEqual(['raw-peer']);
    expect(raw.frames.some((f) => f.type === ControlType.GOAWAY)).toBe(false);
  });
});

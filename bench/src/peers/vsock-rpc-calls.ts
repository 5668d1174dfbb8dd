// vsock-rpc calls: the `echo` method of exampleRegistry (a messageexp in, the same out). With
// inflight = 1 the client measures round-trip latency (histogram, from before call() to its
// resolution: encode + check, frame, write, the server's decode, check, handler, encode, and the
// reply's decode + check); with inflight > 1 it keeps that many calls outstanding on the one
// connection and measures calls/s. Mirrors the grpc-js unary peer loop for loop.
import { ClientEngine, ServerEngine } from '@vsock-rpc/engine';
import type { PeerContext } from './protocol.js';
import { address, makeWireMessages, quietEngine } from './bench-registry.js';
import { nowNs, PhasedDeadline, type RateResult } from './clock.js';
import { encodeHistogram, newLatencyHistogram, type LatencyResult } from './latency.js';
import type { PingPongParams } from './raw-pingpong.js';

export async function server(ctx: PeerContext<PingPongParams>): Promise<{ echoed: number }> {
  const engine = await ServerEngine.listen(address(ctx.socketPath), quietEngine);
  let echoed = 0;
  engine.handle('echo', (req) => {
    echoed++;
    return req;
  });
  ctx.ready();
  await ctx.stopped;
  await engine.close(1000);
  return { echoed };
}

export async function client(ctx: PeerContext<PingPongParams>): Promise<LatencyResult | RateResult> {
  const { count, seconds, warmup, inflight } = ctx.params;
  const engine = await ClientEngine.connect(address(ctx.socketPath), { ...quietEngine, clock: false, reconnect: false });
  // the same mid-sized messageexp as the raw and grpc-js peers (the first message of the pool)
  const req = makeWireMessages(1)[0]!;
  const hist = newLatencyHistogram();
  const deadline = new PhasedDeadline(seconds, warmup);
  const target = warmup + count;
  let started = 0;
  let done = 0;
  const loop = async (): Promise<void> => {
    while (started < target && !deadline.expired(done)) {
      started++;
      const measuring = !deadline.inWarmup;
      const t = nowNs();
      await engine.call('echo', req);
      const t2 = nowNs();
      done++;
      if (measuring && inflight === 1) hist.recordValue(Number(t2 - t));
    }
  };
  await Promise.all(Array.from({ length: inflight }, loop));
  const tEnd = nowNs();
  await engine.close(1000);
  const measured = done - deadline.measuredFrom;
  if (measured <= 0 || deadline.inWarmup) throw new Error(`no calls measured (done ${done}): time limit too short`);
  const secondsMeasured = Number(tEnd - deadline.measureStartNs) / 1e9;
  if (inflight === 1) return { histogram: encodeHistogram(hist), count: hist.totalCount, seconds: secondsMeasured };
  return { count: measured, bytes: 0, seconds: secondsMeasured };
}

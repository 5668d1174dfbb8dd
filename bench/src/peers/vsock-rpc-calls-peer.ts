// vsock-rpc peer process "calls" (variants: vsock-rpc/vsock-rpc-calls.ts): the `echo` method of
// exampleRegistry (a messageexp in, the same out). With inflight = 1 the client measures round-trip
// latency (histogram, from before call() to its resolution: encode + check, frame, write, the
// server's decode, check, handler, encode, and the reply's decode + check); with inflight > 1 it
// keeps that many calls outstanding on the one connection and measures calls/s. The loop is
// round-trip-loop.ts's, the same as the grpc-js unary and raw ping-pong peers'.
import { ClientEngine, ServerEngine } from '@vsock-rpc/engine';
import type { PeerContext } from './peer-ipc.js';
import { address, makeWireMessages, quietEngine } from './wire-registry.js';
import type { RateResult } from './timing.js';
import type { LatencyResult } from './latency-histogram.js';
import { RoundTrips, type RoundTripParams } from './round-trip-loop.js';

export async function server(ctx: PeerContext<RoundTripParams>): Promise<{ echoed: number }> {
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

export async function client(ctx: PeerContext<RoundTripParams>): Promise<LatencyResult | RateResult> {
  const engine = await ClientEngine.connect(address(ctx.socketPath), { ...quietEngine, clock: false, reconnect: false });
  // the same mid-sized messageexp as the raw and grpc-js peers (the first message of the pool)
  const req = makeWireMessages(1)[0]!;
  const trips = new RoundTrips(ctx.params, 'calls');
  const tEnd = await trips.runLoops(() => engine.call('echo', req));
  await engine.close(1000);
  return trips.result(tEnd);
}

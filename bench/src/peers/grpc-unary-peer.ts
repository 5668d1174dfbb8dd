// Baseline peer process "grpc-js unary" (variants: baselines/grpc-unary.ts): Echo calls of one
// messageexp. With inflight = 1 the client measures round-trip latency (histogram); with
// inflight > 1 it keeps that many calls outstanding and measures calls/s. The loop is
// round-trip-loop.ts's.
import type * as grpc from '@grpc/grpc-js';
import type { PeerContext } from './peer-ipc.js';
import { connectGrpc, loadBenchService, startGrpcServer, toProto, type BenchClient, type ProtoMessageExp } from './grpc-proto.js';
import { makeMessages } from './messageexp.js';
import type { RateResult } from './timing.js';
import type { LatencyResult } from './latency-histogram.js';
import { RoundTrips, type RoundTripParams } from './round-trip-loop.js';

export async function server(ctx: PeerContext<RoundTripParams>): Promise<{ echoed: number }> {
  const svc = loadBenchService(ctx.tmpDir, 'server');
  let echoed = 0;
  const server = await startGrpcServer(ctx.socketPath, svc, {
    Echo: (call: grpc.ServerUnaryCall<ProtoMessageExp, ProtoMessageExp>, callback: grpc.sendUnaryData<ProtoMessageExp>) => {
      echoed++;
      callback(null, call.request);
    },
  });
  ctx.ready();
  // unary has no end-of-stream: the parent says when the client is done
  await ctx.stopped;
  server.forceShutdown();
  return { echoed };
}

function echo(client: BenchClient, req: ProtoMessageExp): Promise<void> {
  return new Promise((resolve, reject) => client.Echo(req, (err) => (err ? reject(err) : resolve())));
}

export async function client(ctx: PeerContext<RoundTripParams>): Promise<LatencyResult | RateResult> {
  const svc = loadBenchService(ctx.tmpDir, 'client');
  const grpcClient = await connectGrpc(ctx.socketPath, svc);
  const req = toProto(makeMessages(1)[0]!);
  const trips = new RoundTrips(ctx.params, 'calls');
  // `inflight` independent loops, each with one call outstanding
  const tEnd = await trips.runLoops(() => echo(grpcClient, req));
  grpcClient.close();
  return trips.result(tEnd);
}

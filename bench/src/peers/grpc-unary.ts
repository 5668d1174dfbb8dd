// Baseline "grpc-js unary": Echo calls of one messageexp. With inflight = 1 the client measures
// round-trip latency (histogram); with inflight > 1 it keeps that many calls outstanding and
// measures calls/s.
import type * as grpc from '@grpc/grpc-js';
import type { PeerContext } from './protocol.js';
import { connectGrpc, loadBenchService, startGrpcServer, toProto, type BenchClient, type ProtoMessageExp } from './grpc-proto.js';
import { makeMessages } from './messageexp.js';
import { nowNs, PhasedDeadline, type RateResult } from './clock.js';
import { encodeHistogram, newLatencyHistogram, type LatencyResult } from './latency.js';
import type { PingPongParams } from './raw-pingpong.js';

export async function server(ctx: PeerContext<PingPongParams>): Promise<{ echoed: number }> {
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

export async function client(ctx: PeerContext<PingPongParams>): Promise<LatencyResult | RateResult> {
  const { count, seconds, warmup, inflight } = ctx.params;
  const svc = loadBenchService(ctx.tmpDir, 'client');
  const grpcClient = await connectGrpc(ctx.socketPath, svc);
  const req = toProto(makeMessages(1)[0]!);
  const hist = newLatencyHistogram();
  const deadline = new PhasedDeadline(seconds, warmup);
  const target = warmup + count;
  let started = 0;
  let done = 0;

  // `inflight` independent loops, each with one call outstanding
  const loop = async (): Promise<void> => {
    while (started < target && !deadline.expired(done)) {
      started++;
      const measuring = !deadline.inWarmup;
      const t = nowNs();
      await echo(grpcClient, req);
      const t2 = nowNs();
      done++;
      if (measuring && inflight === 1) hist.recordValue(Number(t2 - t));
    }
  };
  await Promise.all(Array.from({ length: inflight }, loop));
  const tEnd = nowNs();
  grpcClient.close();
  const measured = done - deadline.measuredFrom;
  if (measured <= 0 || deadline.inWarmup) throw new Error(`no calls measured (done ${done}): time limit too short`);
  const secondsMeasured = Number(tEnd - deadline.measureStartNs) / 1e9;
  if (inflight === 1) return { histogram: encodeHistogram(hist), count: hist.totalCount, seconds: secondsMeasured };
  return { count: measured, bytes: 0, seconds: secondsMeasured };
}

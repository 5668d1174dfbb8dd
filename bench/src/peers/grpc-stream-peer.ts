// Baseline peer process "grpc-js client streaming" (variant: baselines/grpc-stream.ts): one
// client-streaming call carrying messageexp events, honouring the call's backpressure; the server
// counts messages and acks at the end.
import type * as grpc from '@grpc/grpc-js';
import { once } from 'node:events';
import type { PeerContext } from './peer-ipc.js';
import { connectGrpc, loadBenchService, startGrpcServer, toProto, type ProtoMessageExp } from './grpc-proto.js';
import { makeMessages } from './messageexp.js';
import { nowNs, PhasedDeadline } from './timing.js';
import type { ReceiveResult } from './receive.js';
import type { OnewayClientResult, OnewayParams } from './raw-oneway-peer.js';

export async function server(ctx: PeerContext<OnewayParams>): Promise<ReceiveResult> {
  const warmup = Math.max(1, ctx.params.warmup);
  const svc = loadBenchService(ctx.tmpDir, 'server');
  let finish: (r: ReceiveResult) => void = () => {};
  let fail: (e: Error) => void = () => {};
  const done = new Promise<ReceiveResult>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const server = await startGrpcServer(ctx.socketPath, svc, {
    Stream: (call: grpc.ServerReadableStream<ProtoMessageExp, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      let frames = 0;
      let t0 = 0n;
      let tLast = 0n;
      call.on('data', (m: ProtoMessageExp) => {
        frames++;
        tLast = nowNs();
        if (frames === warmup) t0 = tLast;
        if (m.text.length === 0) fail(new Error('empty text: decoding went wrong'));
      });
      call.once('error', fail);
      call.once('end', () => {
        callback(null, { count: frames });
        if (frames <= warmup) return fail(new Error(`only ${frames} messages arrived, warm-up is ${warmup}`));
        // bytes: not meaningful for grpc framing, reported as 0
        finish({ count: frames - warmup, bytes: 0, seconds: Number(tLast - t0) / 1e9, frames });
      });
    },
  });
  ctx.ready();
  try {
    return await done;
  } finally {
    // graceful: the Ack must still reach the client (forceShutdown would cancel the call)
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
}

export async function client(ctx: PeerContext<OnewayParams>): Promise<OnewayClientResult> {
  const { count, seconds, warmup } = ctx.params;
  const svc = loadBenchService(ctx.tmpDir, 'client');
  const grpcClient = await connectGrpc(ctx.socketPath, svc);
  const messages = makeMessages(1024);
  let acked: (v: void) => void = () => {};
  let failed: (e: Error) => void = () => {};
  const ack = new Promise<void>((resolve, reject) => {
    acked = resolve;
    failed = reject;
  });
  const call = grpcClient.Stream((err) => (err ? failed(err) : acked()));
  const target = count + warmup;
  const deadline = new PhasedDeadline(seconds, warmup);
  let sent = 0;
  while (sent < target) {
    const m = messages[sent & 1023]!;
    sent++;
    if (!call.write(toProto({ ts: process.hrtime.bigint(), text: m.text }))) {
      await once(call, 'drain');
      if (deadline.expired(sent)) break;
    } else if ((sent & 1023) === 0 && deadline.expired(sent)) break;
  }
  call.end();
  await ack;
  grpcClient.close();
  return { sent };
}

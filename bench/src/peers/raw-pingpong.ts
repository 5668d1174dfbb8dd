// Baseline "raw ping-pong": request/response of one small pre-encoded messageexp frame; the
// server echoes every frame it splits. With inflight = 1 the client measures round-trip latency
// (histogram); with inflight > 1 it keeps that many requests outstanding and measures calls/s,
// the raw counterpart of grpc-js's concurrent unary calls.
import type { PeerContext } from './protocol.js';
import { acceptOne, connect, endAndWait } from './sockets.js';
import { FrameSplitter } from './frames.js';
import { encodeBatch, makeMessages } from './messageexp.js';
import { nowNs, PhasedDeadline, type RateResult } from './clock.js';
import { encodeHistogram, newLatencyHistogram, type LatencyResult } from './latency.js';

export interface PingPongParams {
  readonly count: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly inflight: number;
}

export async function server(ctx: PeerContext<PingPongParams>): Promise<{ echoed: number }> {
  const sock = await acceptOne(ctx);
  let echoed = 0;
  const splitter = new FrameSplitter((buf, start, end) => {
    sock.write(buf.subarray(start - 4, end));
    echoed++;
  });
  sock.on('data', (chunk: Buffer) => splitter.push(chunk));
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.once('end', () => {
      sock.end();
      resolve();
    });
  });
  return { echoed };
}

export async function client(ctx: PeerContext<PingPongParams>): Promise<LatencyResult | RateResult> {
  const { count, seconds, warmup, inflight } = ctx.params;
  // a mid-sized messageexp (the first message of the pool), sent as one frame
  const frame = encodeBatch(makeMessages(1), 1).buf;
  const sock = await connect(ctx);
  const hist = newLatencyHistogram();
  const deadline = new PhasedDeadline(seconds, warmup);
  const target = warmup + count;
  let started = 0;
  let done = 0;
  let received = 0;
  let tEnd = 0n;
  // for inflight = 1 only: when the outstanding request left
  let tSent = 0n;
  let stopping = false;

  await new Promise<void>((resolve, reject) => {
    const send = (): void => {
      started++;
      tSent = nowNs();
      sock.write(frame);
    };
    sock.on('data', (chunk: Buffer) => {
      received += chunk.length;
      while (received >= frame.length) {
        received -= frame.length;
        const t = nowNs();
        const measuring = !deadline.inWarmup;
        done++;
        if (measuring && inflight === 1) hist.recordValue(Number(t - tSent));
        if (done >= target || deadline.expired(done, t)) stopping = true;
        if (!stopping) send();
        else if (done === started) {
          tEnd = t;
          return resolve();
        }
      }
    });
    sock.once('error', reject);
    for (let i = 0; i < inflight; i++) send();
  });
  await endAndWait(sock);
  // a round trip counts when it completed in the measured phase
  const measured = done - deadline.measuredFrom;
  const secondsMeasured = Number(tEnd - deadline.measureStartNs) / 1e9;
  if (measured <= 0 || deadline.inWarmup) throw new Error(`no round trips measured (done ${done}): time limit too short`);
  if (inflight === 1) {
    return { histogram: encodeHistogram(hist), count: hist.totalCount, seconds: secondsMeasured };
  }
  return { count: measured, bytes: measured * frame.length, seconds: secondsMeasured };
}

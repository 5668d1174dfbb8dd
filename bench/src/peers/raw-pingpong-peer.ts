// Baseline peer process "raw ping-pong" (variants: baselines/raw-pingpong.ts): request/response of
// one small pre-encoded messageexp frame; the server echoes every frame it splits. With
// inflight = 1 the client measures round-trip latency (histogram); with inflight > 1 it keeps that
// many requests outstanding and measures calls/s, the raw counterpart of grpc-js's concurrent
// unary calls. The loop is round-trip-loop.ts's, driven by the socket's 'data' handler.
import type { PeerContext } from './peer-ipc.js';
import { acceptOne, connect, endAndWait } from './sockets.js';
import { FrameSplitter } from './raw-frames.js';
import { encodeBatch, makeMessages } from './messageexp.js';
import { nowNs, type RateResult } from './timing.js';
import type { LatencyResult } from './latency-histogram.js';
import { RoundTrips, type RoundTripParams } from './round-trip-loop.js';

export async function server(ctx: PeerContext<RoundTripParams>): Promise<{ echoed: number }> {
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

export async function client(ctx: PeerContext<RoundTripParams>): Promise<LatencyResult | RateResult> {
  const { inflight } = ctx.params;
  // a mid-sized messageexp (the first message of the pool), sent as one frame
  const frame = encodeBatch(makeMessages(1), 1).buf;
  const sock = await connect(ctx);
  const trips = new RoundTrips(ctx.params, 'round trips');
  let received = 0;
  let tEnd = 0n;
  // for inflight = 1 only: when the outstanding request left
  let tSent = 0n;
  let stopping = false;

  // The loop of round-trip-loop.ts driven by the replies themselves: no promise per round trip.
  await new Promise<void>((resolve, reject) => {
    const send = (): void => {
      tSent = trips.start();
      sock.write(frame);
    };
    sock.on('data', (chunk: Buffer) => {
      received += chunk.length;
      while (received >= frame.length) {
        received -= frame.length;
        const t = nowNs();
        trips.end(tSent, t);
        if (!stopping && trips.next(t)) send();
        else {
          stopping = true;
          if (trips.idle) {
            tEnd = t;
            return resolve();
          }
        }
      }
    });
    sock.once('error', reject);
    for (let i = 0; i < inflight; i++) send();
  });
  await endAndWait(sock);
  // a round trip counts when it completed in the measured phase
  return trips.result(tEnd, frame.length);
}

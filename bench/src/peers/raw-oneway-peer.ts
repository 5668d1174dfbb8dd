// Baseline peer process "raw one-way" (variant: baselines/raw-oneway.ts): the client writes
// pre-encoded messageexp frames in big batched writes, the server only splits frames. No encoding,
// no decoding: the ceiling for Node on this socket.
import type { PeerContext } from './peer-ipc.js';
import { acceptOne, connect, endAndWait, writeRespectingBackpressure } from './sockets.js';
import { receiveFrames, type ReceiveResult } from './receive.js';
import { encodeBatch, makeMessages } from './messageexp.js';
import { PhasedDeadline } from './timing.js';

export interface OnewayParams {
  readonly count: number;
  readonly seconds: number;
  readonly warmup: number;
  /** bytes per write() */
  readonly batchBytes: number;
}

export interface OnewayClientResult {
  readonly sent: number;
}

export async function server(ctx: PeerContext<OnewayParams>): Promise<ReceiveResult> {
  const sock = await acceptOne(ctx);
  return receiveFrames(sock, ctx.params.warmup);
}

export async function client(ctx: PeerContext<OnewayParams>): Promise<OnewayClientResult> {
  const { count, seconds, warmup, batchBytes } = ctx.params;
  const batch = encodeBatch(makeMessages(1024), batchBytes);
  const sock = await connect(ctx);
  const target = count + warmup;
  const deadline = new PhasedDeadline(seconds, warmup);
  let sent = 0;
  while (sent < target && !deadline.expired(sent)) {
    await writeRespectingBackpressure(sock, batch.buf);
    sent += batch.frames;
  }
  await endAndWait(sock);
  return { sent };
}

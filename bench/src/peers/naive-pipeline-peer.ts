// Baseline peer process "naive pipeline" (variant: baselines/naive-pipeline.ts): what a user writes
// by hand. The client msgpackr-packs each event, prefixes a 4-byte length and batches frames into
// 64 KiB writes; the server splits, unpacks and validates every event with a compiled TypeBox
// checker.
import type { PeerContext } from './peer-ipc.js';
import { acceptOne, connect, endAndWait, writeRespectingBackpressure } from './sockets.js';
import { receiveFrames, type ReceiveResult } from './receive.js';
import { checkMessageExp, makeMessages, makePackr, makeUnpackr } from './messageexp.js';
import { PhasedDeadline } from './timing.js';
import type { OnewayClientResult, OnewayParams } from './raw-oneway-peer.js';

export interface NaiveServerResult extends ReceiveResult {
  readonly invalid: number;
}

export async function server(ctx: PeerContext<OnewayParams>): Promise<NaiveServerResult> {
  const unpackr = makeUnpackr();
  const check = checkMessageExp();
  let invalid = 0;
  const sock = await acceptOne(ctx);
  const r = await receiveFrames(sock, ctx.params.warmup, (buf, start, end) => {
    if (!check.Check(unpackr.unpack(buf.subarray(start, end)))) invalid++;
  });
  return { ...r, invalid };
}

export async function client(ctx: PeerContext<OnewayParams>): Promise<OnewayClientResult> {
  const { count, seconds, warmup, batchBytes } = ctx.params;
  const messages = makeMessages(1024);
  const packr = makePackr();
  const sock = await connect(ctx);
  const target = count + warmup;
  const deadline = new PhasedDeadline(seconds, warmup);
  let sent = 0;
  let batch = Buffer.allocUnsafe(batchBytes);
  let off = 0;
  while (sent < target) {
    const m = messages[sent & 1023]!;
    // a fresh timestamp per event, as a tracing agent would stamp it
    const payload = packr.pack({ ts: process.hrtime.bigint(), text: m.text });
    if (off + 4 + payload.length > batch.length) {
      // the socket keeps a reference to the written buffer, so the next batch is a new one
      await writeRespectingBackpressure(sock, batch.subarray(0, off));
      batch = Buffer.allocUnsafe(batchBytes);
      off = 0;
      if (deadline.expired(sent)) break;
    }
    batch.writeUInt32LE(payload.length, off);
    payload.copy(batch, off + 4);
    off += 4 + payload.length;
    sent++;
  }
  if (off > 0) await writeRespectingBackpressure(sock, batch.subarray(0, off));
  await endAndWait(sock);
  return { sent };
}

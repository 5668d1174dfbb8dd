// Baseline peer process "raw socket bandwidth" (variant: baselines/raw-bandwidth.ts): the client
// writes large chunks (64 KiB or 1 MiB) back to back, the server counts bytes. No framing: the
// upper bound for bulk payloads on this socket.
import type { PeerContext } from './peer-ipc.js';
import { acceptOne, connect, endAndWait, writeRespectingBackpressure } from './sockets.js';
import { nowNs, PhasedDeadline, type RateResult } from './timing.js';

export interface BandwidthParams {
  readonly chunkBytes: number;
  /** chunks */
  readonly count: number;
  readonly seconds: number;
  /** chunks not measured at the start */
  readonly warmup: number;
}

export interface BandwidthServerResult extends RateResult {
  readonly totalBytes: number;
}

export async function server(ctx: PeerContext<BandwidthParams>): Promise<BandwidthServerResult> {
  const warmupBytes = Math.max(1, ctx.params.warmup * ctx.params.chunkBytes);
  const sock = await acceptOne(ctx);
  let total = 0;
  let t0 = 0n;
  let tLast = 0n;
  let bytes0 = 0;
  return new Promise((resolve, reject) => {
    sock.on('data', (chunk: Buffer) => {
      total += chunk.length;
      tLast = nowNs();
      if (t0 === 0n && total >= warmupBytes) {
        t0 = tLast;
        bytes0 = total;
      }
    });
    sock.once('error', reject);
    sock.once('end', () => {
      sock.end();
      if (t0 === 0n || tLast === t0) return reject(new Error(`only ${total} bytes arrived, warm-up is ${warmupBytes}`));
      const bytes = total - bytes0;
      resolve({ count: bytes / ctx.params.chunkBytes, bytes, seconds: Number(tLast - t0) / 1e9, totalBytes: total });
    });
  });
}

export async function client(ctx: PeerContext<BandwidthParams>): Promise<{ sentBytes: number }> {
  const { chunkBytes, count, seconds, warmup } = ctx.params;
  // Non-zero content so nothing on the path can take a shortcut on zero pages.
  const chunk = Buffer.alloc(chunkBytes, 'vsock-rpc bandwidth ');
  const sock = await connect(ctx);
  const deadline = new PhasedDeadline(seconds, warmup);
  let sent = 0;
  while (sent < count + warmup && !deadline.expired(sent)) {
    await writeRespectingBackpressure(sock, chunk);
    sent++;
  }
  await endAndWait(sock);
  return { sentBytes: sent * chunkBytes };
}

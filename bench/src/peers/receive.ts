// The receiving side of the one-way workloads: splits frames until the client ends the stream,
// and measures from the warm-up-th frame to the last one received.
import type net from 'node:net';
import { FrameSplitter, type FrameHandler } from './raw-frames.js';
import { nowNs, type RateResult } from './timing.js';

export interface ReceiveResult extends RateResult {
  /** every frame, warm-up included, to check against what the client sent */
  readonly frames: number;
}

export function receiveFrames(sock: net.Socket, warmupFrames: number, onFrame?: FrameHandler): Promise<ReceiveResult> {
  const warmup = Math.max(1, warmupFrames);
  let frames = 0;
  let bytes = 0;
  let t0 = 0n;
  let bytes0 = 0;
  let tLast = 0n;
  const splitter = new FrameSplitter((buf, start, end) => {
    if (onFrame) onFrame(buf, start, end);
    frames++;
    bytes += end - start + 4;
    if (frames === warmup) {
      t0 = nowNs();
      bytes0 = bytes;
    }
  });
  return new Promise((resolve, reject) => {
    sock.on('data', (chunk: Buffer) => {
      try {
        splitter.push(chunk);
      } catch (err) {
        sock.destroy();
        reject(err);
        return;
      }
      tLast = nowNs();
    });
    sock.once('error', reject);
    sock.once('end', () => {
      if (splitter.pending > 0) return reject(new Error(`stream ended inside a frame (${splitter.pending} bytes)`));
      if (frames <= warmup) return reject(new Error(`only ${frames} frames arrived, warm-up is ${warmup}`));
      sock.end();
      resolve({ count: frames - warmup, bytes: bytes - bytes0, seconds: Number(tLast - t0) / 1e9, frames });
    });
  });
}

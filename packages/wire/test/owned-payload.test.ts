/**
 * Binary values alias the payload only where that is safe: in a buffer the decoder allocated for
 * one frame (it spanned chunks and is not carved from Node's shared pool). Anywhere else they
 * are copies, so a kept value never changes when the transport reuses or refills its chunk.
 */
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { Codec, FrameDecoder, Kind, OWNED_MIN, defineRegistry, encodeFrame, type Frame } from '../src/index.js';

const registry = defineRegistry({ messages: { blob: { id: 1, schema: Type.Object({ data: Type.Uint8Array() }) } } });
const codec = new Codec(registry);
const entry = registry.message('blob');

function frameOf(size: number, fill: number): Buffer {
  return encodeFrame(Kind.EVENT, 1, 0, codec.encodeMessage('blob', { data: new Uint8Array(size).fill(fill) }));
}

/** Feeds `chunks` and decodes every frame as the engine does; returns the frames and values. */
function run(chunks: Buffer[]): { frames: Frame[]; values: Uint8Array[] } {
  const frames: Frame[] = [];
  const values: Uint8Array[] = [];
  const dec = new FrameDecoder((f) => {
    frames.push(f);
    values.push((codec.decodeMessageAt(entry, f.source, f.start, f.end, f.owned) as { data: Uint8Array }).data);
  });
  for (const c of chunks) dec.push(c);
  return { frames, values };
}

describe('owned payloads', () => {
  it('a large payload split across chunks is owned: its binary is a view into it, not a copy', () => {
    const frame = frameOf(64 * 1024, 7);
    const { frames, values } = run([frame.subarray(0, 1000), frame.subarray(1000)]);
    expect(frames[0]!.owned).toBe(true);
    expect(values[0]!.buffer).toBe(frames[0]!.source.buffer);
    expect(values[0]!.length).toBe(64 * 1024);
    expect(values[0]!.every((b) => b === 7)).toBe(true);
  });

  it('a payload inside one chunk is not owned: its binary is a copy that survives the chunk being overwritten', () => {
    const chunk = Buffer.concat([frameOf(64 * 1024, 7), frameOf(100, 8)]);
    const { frames, values } = run([chunk]);
    expect(frames.map((f) => f.owned)).toEqual([false, false]);
    chunk.fill(0); // a transport reusing its read buffer
    expect(values[0]!.every((b) => b === 7)).toBe(true);
    expect(values[1]!.every((b) => b === 8)).toBe(true);
  });

  it(`a split payload under ${OWNED_MIN} bytes (from Node's shared pool) is not owned, and copied`, () => {
    const frame = frameOf(OWNED_MIN - 100, 9);
    const { frames, values } = run([frame.subarray(0, 50), frame.subarray(50)]);
    expect(frames[0]!.owned).toBe(false);
    expect(values[0]!.buffer).not.toBe(frames[0]!.source.buffer);
    expect(values[0]!.every((b) => b === 9)).toBe(true);
  });

  it('values kept from earlier owned frames stay intact while later frames arrive', () => {
    const stream = Buffer.concat([frameOf(5000, 1), frameOf(70_000, 2), frameOf(5000, 3)]);
    // 1 KiB chunks: every frame spans chunks, so every one is assembled in a buffer of its own
    const chunks = Array.from({ length: Math.ceil(stream.length / 1024) }, (_, i) => stream.subarray(i * 1024, (i + 1) * 1024));
    const { frames, values } = run(chunks);
    expect(frames.map((f) => f.owned)).toEqual([true, true, true]);
    expect(values.map((v) => [v.length, v[0], v[v.length - 1]])).toEqual([
      [5000, 1, 1],
      [70_000, 2, 2],
      [5000, 3, 3],
    ]);
  });
});

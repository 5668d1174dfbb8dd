import { describe, expect, it } from 'vitest';
import { VsockRpcError } from '@vsock-rpc/errors';
import {
  LEGACY_ERROR_CODES,
  LEGACY_PORT,
  LegacyFrameReader,
  LegacyWireError,
  answerClockRequest,
  decodeLegacyFrame,
  decodeMessageexp,
  decodeTimestamps,
  encodeClockReplyFrame,
  encodeClockRequestFrame,
  encodeLegacyFrame,
  encodeMessageexp,
  encodeMessageexpFrame,
  encodeTimestamps,
  legacyClockDue,
  legacyClockErrorBound,
  legacyClockOffset,
  toLegacyServerTime,
} from '../src/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const TS = 0x0102030405060708n;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LegacyWireError);
    expect(e).toBeInstanceOf(VsockRpcError);
    return (e as LegacyWireError).code;
  }
  return undefined;
}

describe('payloads (cereal binary)', () => {
  it('messageexp {0x0102030405060708, "HELLO"} is the 21 bytes of the worked example', () => {
    const p = encodeMessageexp({ timestamp: TS, text: 'HELLO' });
    expect(p).toEqual(hex('08 07 06 05 04 03 02 01  05 00 00 00 00 00 00 00  48 45 4c 4c 4f'));
    expect(decodeMessageexp(p)).toEqual({ timestamp: TS, text: 'HELLO' });
  });

  it('timestamps {0x11.., 0x22..} is 11 x8 then 22 x8', () => {
    const t = { recvtime: 0x1111111111111111n, sendtime: 0x2222222222222222n };
    const p = encodeTimestamps(t);
    expect(p).toEqual(Buffer.concat([Buffer.alloc(8, 0x11), Buffer.alloc(8, 0x22)]));
    expect(decodeTimestamps(p)).toEqual(t);
  });

  it('negative timestamps are signed int64', () => {
    const p = encodeMessageexp({ timestamp: -1n, text: 'A' });
    expect(p.subarray(0, 8)).toEqual(Buffer.alloc(8, 0xff));
    expect(decodeMessageexp(p).timestamp).toBe(-1n);
  });
});

describe('frames', () => {
  it('HELLO is header + body, 49 bytes, inline area zero (not uninitialised)', () => {
    const f = encodeMessageexpFrame({ timestamp: TS, text: 'HELLO' });
    expect(f).toEqual(
      hex(`04 00 00 00 15 00 00 00 ${'00 '.repeat(20)}
           08 07 06 05 04 03 02 01 05 00 00 00 00 00 00 00 48 45 4c 4c 4f`),
    );
    expect(decodeLegacyFrame(f)).toEqual({ type: 4, timestamp: TS, text: 'HELLO' });
  });

  it('HI is inline: one 28-byte frame, the 2 unused bytes zero', () => {
    const f = encodeMessageexpFrame({ timestamp: TS, text: 'HI' });
    expect(f).toEqual(hex('04 00 00 00 12 00 00 00 08 07 06 05 04 03 02 01 02 00 00 00 00 00 00 00 48 49 00 00'));
    expect(decodeLegacyFrame(f)).toEqual({ type: 4, timestamp: TS, text: 'HI' });
  });

  it('a 4-byte string is the longest inline one (payload 20), 5 bytes goes header + body', () => {
    expect(encodeMessageexpFrame({ timestamp: 0n, text: 'ABCD' })).toHaveLength(28);
    expect(encodeMessageexpFrame({ timestamp: 0n, text: 'ABCDE' })).toHaveLength(49);
  });

  it('the clock request: type 3, len 16, payload zero', () => {
    expect(encodeClockRequestFrame()).toEqual(hex(`03 00 00 00 10 00 00 00 ${'00 '.repeat(20)}`));
  });

  it('the clock reply of the capture (§9) decodes; ours writes the unused 4 bytes as zero', () => {
    const captured = hex('03 00 00 00 10 00 00 00 33 bf f1 2a 0e 00 00 00 79 33 05 2b 0e 00 00 00 20 fd 26 a8');
    expect(decodeLegacyFrame(captured)).toEqual({ type: 3, recvtime: 60850028339n, sendtime: 60851303289n });
    expect(encodeClockReplyFrame({ recvtime: 60850028339n, sendtime: 60851303289n })).toEqual(Buffer.concat([captured.subarray(0, 24), Buffer.alloc(4)]));
  });

  it('decodes the captured frames of §9, garbage in the unused bytes tolerated', () => {
    const first = hex(`04 00 00 00 30 00 00 00 10 37 dd 35 5a 7f 00 00 20 37 dd 35 5a 7f 00 00 50 3d 8d 35
      73 d8 b6 d2 01 00 00 00 20 00 00 00 00 00 00 00
      46 48 54 49 56 41 54 42 58 4e 53 4a 56 52 42 57 51 57 45 59 49 53 56 4f 43 58 56 53 59 4f 5a 47`);
    expect(decodeLegacyFrame(first)).toEqual({ type: 4, timestamp: 7830165619n, text: 'FHTIVATBXNSJVRBWQWEYISVOCXVSYOZG' });
    const request = hex('03 00 00 00 10 00 00 00 40 3d 8d 35 5a 7f 00 00 39 84 a8 35 5a 7f 00 00 10 3d 8d 35');
    expect(decodeLegacyFrame(request).type).toBe(3);
    const afterSync = hex(`04 00 00 00 2c 00 00 00 10 37 dd 35 5a 7f 00 00 20 37 dd 35 5a 7f 00 00 50 3d 8d 35
      28 fa dd 1d 0e 00 00 00 1c 00 00 00 00 00 00 00
      51 53 4d 4c 50 4e 48 4d 53 4b 46 4f 50 46 45 4f 56 46 56 4a 53 4e 4b 50 4d 45 48 4b`);
    expect(decodeLegacyFrame(afterSync)).toEqual({ type: 4, timestamp: 60630628904n, text: 'QSMLPNHMSKFOPFEOVFVJSNKPMEHK' });
    const inline = hex('04 00 00 00 13 00 00 00 44 e2 b6 12 0f 00 00 00 03 00 00 00 00 00 00 00 41 55 47 35');
    expect(decodeLegacyFrame(inline)).toEqual({ type: 4, timestamp: 64738484804n, text: 'AUG' });
    // The same bytes as one stream, in chunks of every size.
    const stream = Buffer.concat([first, request, afterSync, inline]);
    for (const size of [1, 3, 7, 28, 29, 1000]) {
      const r = new LegacyFrameReader();
      const got = [];
      for (let i = 0; i < stream.length; i += size) got.push(...r.push(stream.subarray(i, i + size)));
      r.end();
      expect(got.map((m) => m.type)).toEqual([4, 3, 4, 4]);
      expect(r.inFrame).toBe(false);
    }
  });

  it('a 65-letter string (len 81) is the strict maximum', () => {
    const text = 'Z'.repeat(65);
    expect(decodeLegacyFrame(encodeMessageexpFrame({ timestamp: 1n, text }))).toMatchObject({ text });
    expect(codeOf(() => encodeMessageexpFrame({ timestamp: 1n, text: text + 'Z' }))).toBe('LEGACY_BAD_STRING');
  });
});

describe('bad input', () => {
  const header = (type: number, len: number) => {
    const b = Buffer.alloc(28);
    b.writeInt32LE(type, 0);
    b.writeInt32LE(len, 4);
    return b;
  };

  it('an unknown type is refused from the first 8 bytes', () => {
    for (const t of [0, 1, 2, 5, -1, 0x7fffffff]) {
      const r = new LegacyFrameReader();
      expect(codeOf(() => r.push(header(t, 16).subarray(0, 8)))).toBe('LEGACY_BAD_TYPE');
    }
  });

  it('a huge or negative len is refused before any body memory is taken', () => {
    for (const len of [0x7fffffff, 82, -1, -0x80000000]) {
      const r = new LegacyFrameReader();
      expect(codeOf(() => r.push(header(4, len).subarray(0, 8)))).toBe('LEGACY_BAD_LENGTH');
    }
    expect(codeOf(() => new LegacyFrameReader().push(header(3, 15)))).toBe('LEGACY_BAD_LENGTH');
    expect(codeOf(() => new LegacyFrameReader().push(header(3, 17)))).toBe('LEGACY_BAD_LENGTH');
  });

  it('a string longer than len is refused; one shorter leaves trailing bytes', () => {
    const p = encodeMessageexp({ timestamp: 5n, text: 'ABCDEFG' });
    p.writeBigUInt64LE(8n, 8);
    expect(codeOf(() => decodeLegacyFrame(encodeLegacyFrame(4, p)))).toBe('LEGACY_BAD_STRING');
    p.writeBigUInt64LE(0xffffffffffffffffn, 8);
    expect(codeOf(() => decodeLegacyFrame(encodeLegacyFrame(4, p)))).toBe('LEGACY_BAD_STRING');
    p.writeBigUInt64LE(6n, 8);
    expect(codeOf(() => decodeLegacyFrame(encodeLegacyFrame(4, p)))).toBe('LEGACY_TRAILING_BYTES');
  });

  it('a zero-length string is refused unless relaxed', () => {
    const p = encodeMessageexp({ timestamp: 5n, text: '' }, { relaxed: true });
    expect(p).toHaveLength(16);
    expect(codeOf(() => decodeLegacyFrame(encodeLegacyFrame(4, p)))).toBe('LEGACY_BAD_LENGTH');
    expect(decodeLegacyFrame(encodeLegacyFrame(4, p), { relaxed: true })).toEqual({ type: 4, timestamp: 5n, text: '' });
    expect(codeOf(() => encodeMessageexp({ timestamp: 5n, text: '' }))).toBe('LEGACY_BAD_STRING');
    const long = 'x'.repeat(300);
    expect(decodeLegacyFrame(encodeMessageexpFrame({ timestamp: 1n, text: long }, { relaxed: true }), { relaxed: true })).toMatchObject({ text: long });
    expect(codeOf(() => decodeLegacyFrame(encodeMessageexpFrame({ timestamp: 1n, text: long }, { relaxed: true }), { relaxed: true, maxLen: 100 }))).toBe(
      'LEGACY_BAD_LENGTH',
    );
  });

  it('invalid UTF-8 is refused', () => {
    const p = encodeMessageexp({ timestamp: 5n, text: 'AB' });
    p[17] = 0xff;
    expect(codeOf(() => decodeLegacyFrame(encodeLegacyFrame(4, p)))).toBe('LEGACY_BAD_STRING');
  });

  it('a truncated frame is reported at the end of the stream, and errors are sticky', () => {
    const f = encodeMessageexpFrame({ timestamp: TS, text: 'HELLO' });
    const r = new LegacyFrameReader();
    expect(r.push(f.subarray(0, 40))).toEqual([]);
    expect(r.inFrame).toBe(true);
    expect(r.frameSize).toBe(49);
    expect(codeOf(() => r.end())).toBe('LEGACY_TRUNCATED');
    expect(codeOf(() => r.push(f))).toBe('LEGACY_TRUNCATED');
    expect(codeOf(() => decodeLegacyFrame(f.subarray(0, 5)))).toBe('LEGACY_TRUNCATED');
    expect(codeOf(() => decodeLegacyFrame(Buffer.concat([f, Buffer.alloc(1)])))).toBe('LEGACY_TRAILING_BYTES');
  });

  it('encoders refuse what the wire cannot carry', () => {
    expect(codeOf(() => encodeMessageexp({ timestamp: 1n << 63n, text: 'A' }))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => encodeLegacyFrame(2 as 3, Buffer.alloc(16)))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => new LegacyFrameReader({ maxLen: 1 << 30 }))).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('every code is in the fixed list', () => {
    expect(new Set(LEGACY_ERROR_CODES).size).toBe(LEGACY_ERROR_CODES.length);
  });
});

describe('clock exchange', () => {
  it('Δt of the measured sample (§6) is 5 783 315 ns, truncated toward zero', () => {
    const s = { t1: 7_990_412_917n, t1p: 7_991_546_867n, t2p: 7_991_581_317n, t2: 8_004_281_897n };
    expect(legacyClockOffset(s)).toBe(5_783_315n);
    expect(legacyClockOffset({ t1: 0n, t1p: 1n, t2p: 0n, t2: 0n })).toBe(0n); // -1/2 → 0, as C
    expect(legacyClockOffset({ t1: 3n, t1p: 0n, t2p: 0n, t2: 0n })).toBe(1n);
    expect(legacyClockErrorBound(s)).toBe((8_004_281_897n - 7_990_412_917n - 34_450n + 1n) / 2n);
    expect(toLegacyServerTime(100n, 30n)).toBe(70n);
  });

  it('a client that never synced is due at once, then after the interval', () => {
    expect(legacyClockDue(5n, undefined)).toBe(true);
    expect(legacyClockDue(60_000_000_000n, 0n)).toBe(false);
    expect(legacyClockDue(60_000_000_001n, 0n)).toBe(true);
    expect(legacyClockDue(10n, 0n, 5n)).toBe(true);
  });

  it('the server answers with T1′ = arrival and T2′ = now, in one 28-byte frame', () => {
    const a = answerClockRequest(1000n, () => 1500n);
    expect(a).toMatchObject({ t1p: 1000n, t2p: 1500n });
    expect(decodeLegacyFrame(a.frame)).toEqual({ type: 3, recvtime: 1000n, sendtime: 1500n });
    expect(a.frame).toHaveLength(28);
  });

  it('the port is htons(11451) read back on little-endian', () => {
    expect(LEGACY_PORT).toBe(((11451 & 0xff) << 8) | (11451 >> 8));
  });
});

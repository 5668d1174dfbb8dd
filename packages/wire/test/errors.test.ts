/** Bad input: each case throws its typed error class with its stable `code`. */
import { describe, expect, it, vi } from 'vitest';
import { exampleRegistry } from '../src/examples.js';
import {
  BadFlagsError,
  BadKindError,
  Codec,
  ControlType,
  DEFAULT_MAX_FRAME,
  DecodeError,
  FrameDecoder,
  FrameTooLargeError,
  HEADER_SIZE,
  Kind,
  MAX_FRAME_CEILING,
  ProtocolError,
  SchemaViolationError,
  TruncatedFrameError,
  UnknownNameError,
  UnknownTypeError,
  VsockRpcError,
  pack,
  type Frame,
  type FrameDecoderOptions,
} from '../src/index.js';
import { encodeAll } from './helpers.js';

function header(length: number, type: number, kind: number, flags: number, id = 0): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  b.writeUInt32LE(length, 0);
  b.writeUInt16LE(type, 4);
  b[6] = kind;
  b[7] = flags;
  b.writeUInt32LE(id, 8);
  return b;
}

/** Feeds `bytes` one byte at a time; returns what was thrown (or undefined) and the frames. */
function feedBytewise(bytes: Buffer, options?: FrameDecoderOptions): { error: unknown; frames: Frame[]; dec: FrameDecoder } {
  const frames: Frame[] = [];
  const dec = new FrameDecoder((f) => frames.push(f), options);
  try {
    for (let i = 0; i < bytes.length; i++) dec.push(bytes.subarray(i, i + 1));
    dec.end();
  } catch (error) {
    return { error, frames, dec };
  }
  return { error: undefined, frames, dec };
}

function expectCode<E extends VsockRpcError>(error: unknown, cls: new (...a: never[]) => E, code: string): E {
  expect(error).toBeInstanceOf(cls);
  expect(error).toBeInstanceOf(VsockRpcError);
  expect((error as E).code).toBe(code);
  expect((error as E).name).toBe(cls.name);
  return error as E;
}

describe('frame too large', () => {
  for (const [label, length, maxFrame] of [
    ['4 GiB − 1', 0xffffffff, DEFAULT_MAX_FRAME],
    ['just over maxFrame', 1025, 1024],
    ['just over the default', DEFAULT_MAX_FRAME + 1, undefined],
  ] as const) {
    it(`${label}: FrameTooLargeError before anything is allocated (fed byte by byte)`, () => {
      const allocate = vi.fn((n: number) => Buffer.alloc(n));
      const bytes = Buffer.concat([header(length, 4, Kind.EVENT, 0), Buffer.alloc(64, 0x41)]);
      const { error, frames } = feedBytewise(bytes, { allocate, ...(maxFrame === undefined ? {} : { maxFrame }) });
      const e = expectCode(error, FrameTooLargeError, 'FRAME_TOO_LARGE');
      expect(e).toBeInstanceOf(ProtocolError);
      expect(e.length).toBe(length);
      expect(e.maxFrame).toBe(maxFrame ?? DEFAULT_MAX_FRAME);
      expect(allocate).not.toHaveBeenCalled();
      expect(frames).toEqual([]);
    });
  }

  it('a frame of exactly maxFrame is accepted, and the allocate spy sees its split payload', () => {
    const allocate = vi.fn((n: number) => Buffer.alloc(n));
    const { bytes } = encodeAll([{ kind: Kind.EVENT, type: 4, id: 0, payload: Buffer.alloc(1024, 7) }]);
    const { error, frames } = feedBytewise(bytes, { maxFrame: 1024, allocate });
    expect(error).toBeUndefined();
    expect(frames).toHaveLength(1);
    expect(allocate).toHaveBeenCalledExactlyOnceWith(1024);
  });

  it('maxFrame is clamped to the 1 GiB ceiling, and can be lowered after HELLO', () => {
    expect(new FrameDecoder(() => {}, { maxFrame: 2 ** 31 }).maxFrame).toBe(MAX_FRAME_CEILING);
    expect(new FrameDecoder(() => {}).maxFrame).toBe(DEFAULT_MAX_FRAME);
    const dec = new FrameDecoder(() => {});
    dec.maxFrame = 1024;
    expect(() => dec.push(header(2000, 1, Kind.EVENT, 0))).toThrow(FrameTooLargeError);
  });
});

describe('bad headers', () => {
  it('kind above 4 is BAD_KIND', () => {
    for (const kind of [5, 6, 0x80, 0xff]) {
      const { error } = feedBytewise(header(0, 1, kind, 0));
      expect(expectCode(error, BadKindError, 'BAD_KIND').kind).toBe(kind);
    }
    for (const kind of [0, 1, 2, 3, 4]) expect(feedBytewise(header(0, 1, kind, 0)).error).toBeUndefined();
  });

  it("BAD_KIND's message fits the connection: a stream kind without streams, a kind above 8 with or without", () => {
    const withoutStreams = feedBytewise(header(0, 1, Kind.DATA, 0)).error as BadKindError;
    expect(withoutStreams.message).toMatch(/^frame kind 6 \(DATA\) is a stream kind, used only where both HELLOs list the feature "streams"/);
    for (const streams of [false, true]) {
      const { error } = feedBytewise(header(0, 1, 9, 0), { streams });
      expect(expectCode(error, BadKindError, 'BAD_KIND').message).toMatch(
        /^frame kind 9 is not defined \(0\.\.4, and 5\.\.8 where both HELLOs list "streams"\)/,
      );
    }
    for (const kind of [Kind.OPEN, Kind.DATA, Kind.WINDOW, Kind.RESET])
      expect(feedBytewise(header(0, 1, kind, 0), { streams: true }).error).not.toBeInstanceOf(BadKindError);
  });

  it('an unknown flag bit is BAD_FLAGS', () => {
    for (const flags of [0x02, 0x04, 0x80, 0xfe, 0x03]) {
      const { error } = feedBytewise(header(8, 100, Kind.REQUEST, flags));
      expect(expectCode(error, BadFlagsError, 'BAD_FLAGS').flags).toBe(flags);
    }
  });

  it('DEADLINE on any kind but REQUEST is BAD_FLAGS', () => {
    for (const kind of [Kind.CONTROL, Kind.EVENT, Kind.RESPONSE, Kind.ERROR]) {
      const { error } = feedBytewise(Buffer.concat([header(4, 1, kind, 0x01), Buffer.alloc(4)]));
      expectCode(error, BadFlagsError, 'BAD_FLAGS');
      expect((error as Error).message).toMatch(/REQUEST/);
    }
  });

  it('DEADLINE with length < 4 is BAD_FLAGS; length 4 is a deadline and an empty request', () => {
    for (const length of [0, 1, 3]) {
      const { error } = feedBytewise(Buffer.concat([header(length, 100, Kind.REQUEST, 0x01, 1), Buffer.alloc(length)]));
      expectCode(error, BadFlagsError, 'BAD_FLAGS');
    }
    const { error, frames } = feedBytewise(Buffer.concat([header(4, 100, Kind.REQUEST, 0x01, 1), Buffer.from([5, 0, 0, 0])]));
    expect(error).toBeUndefined();
    expect(frames[0]!.deadlineMs).toBe(5);
    expect(frames[0]!.payload.length).toBe(0);
  });

  it('an unknown TYPE_ id (isKnownType says no) is UNKNOWN_TYPE', () => {
    const isKnownType = vi.fn((kind: Kind, type: number) =>
      kind === Kind.CONTROL ? type >= ControlType.HELLO && type <= ControlType.CLOCK_RESPONSE : exampleRegistry.messageById(type) !== undefined,
    );
    const ok = feedBytewise(Buffer.concat([header(0, 0xff01, Kind.CONTROL, 0, 9), header(1, 4, Kind.EVENT, 0), Buffer.from([0xc0])]), { isKnownType });
    expect(ok.error).toBeUndefined();
    expect(ok.frames).toHaveLength(2);
    expect(isKnownType).toHaveBeenCalledWith(Kind.CONTROL, 0xff01);
    expect(isKnownType).toHaveBeenCalledWith(Kind.EVENT, 4);

    const ev = feedBytewise(header(0, 77, Kind.EVENT, 0), { isKnownType });
    const e = expectCode(ev.error, UnknownTypeError, 'UNKNOWN_TYPE');
    expect([e.typeId, e.kind]).toEqual([77, Kind.EVENT]);
    const ctl = feedBytewise(header(0, 0xff42, Kind.CONTROL, 0), { isKnownType });
    expect(expectCode(ctl.error, UnknownTypeError, 'UNKNOWN_TYPE').typeId).toBe(0xff42);
  });
});

describe('truncated streams', () => {
  it('end() mid-header is TRUNCATED_FRAME', () => {
    const dec = new FrameDecoder(() => {});
    dec.push(header(10, 1, Kind.EVENT, 0).subarray(0, 5));
    let error: unknown;
    try {
      dec.end();
    } catch (e) {
      error = e;
    }
    const t = expectCode(error, TruncatedFrameError, 'TRUNCATED_FRAME');
    expect([t.have, t.need]).toEqual([5, HEADER_SIZE]);
  });

  it('end() mid-payload (and right after a header) is TRUNCATED_FRAME', () => {
    for (const have of [0, 1, 9]) {
      const dec = new FrameDecoder(() => {});
      dec.push(Buffer.concat([header(10, 1, Kind.EVENT, 0), Buffer.alloc(have)]));
      let error: unknown;
      try {
        dec.end();
      } catch (e) {
        error = e;
      }
      const t = expectCode(error, TruncatedFrameError, 'TRUNCATED_FRAME');
      expect([t.have, t.need]).toEqual([HEADER_SIZE + have, HEADER_SIZE + 10]);
    }
  });

  it('end() at a frame boundary is fine', () => {
    const { error, frames } = feedBytewise(Buffer.concat([header(2, 1, Kind.EVENT, 0), Buffer.from([0x91, 0x01])]));
    expect(error).toBeUndefined();
    expect(frames).toHaveLength(1);
  });
});

describe('a decoder that failed stays failed', () => {
  it('refuses every later push with the same error and emits nothing more', () => {
    const frames: Frame[] = [];
    const dec = new FrameDecoder((f) => frames.push(f));
    const valid = Buffer.concat([header(1, 1, Kind.EVENT, 0), Buffer.from([0x01])]);
    dec.push(valid);
    expect(frames).toHaveLength(1);
    let first: unknown;
    try {
      dec.push(header(0, 1, 9, 0));
    } catch (e) {
      first = e;
    }
    expectCode(first, BadKindError, 'BAD_KIND');
    let again: unknown;
    try {
      dec.push(valid);
    } catch (e) {
      again = e;
    }
    expect(again).toBe(first);
    expect(frames).toHaveLength(1);
    expect(() => dec.end()).not.toThrow();
  });
});

describe('payload errors', () => {
  const codec = new Codec(exampleRegistry);
  const mexp = exampleRegistry.message('messageexp');
  const decodeErr = (payload: Uint8Array): unknown => {
    try {
      codec.decodeMessage(mexp, payload);
    } catch (e) {
      return e;
    }
    return undefined;
  };

  it('garbage MessagePack is DECODE_ERROR', () => {
    for (const bad of [
      Buffer.from([0xc1]), // "never used"
      Buffer.alloc(0), // no value at all
      Buffer.from([0x82, 0xa9, 0x74]), // a map cut short
      Buffer.from([0xd3, 0x01]), // int 64 cut short
      Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff]), // str 32 claiming 4 GiB
    ]) {
      const e = expectCode(decodeErr(bad), DecodeError, 'DECODE_ERROR');
      expect(e.typeName).toBe('messageexp');
    }
  });

  it('trailing bytes after the value are DECODE_ERROR', () => {
    const good = codec.encodeMessage('messageexp', { timestamp: 1n, str: 'x' });
    expect(decodeErr(good)).toBeUndefined();
    expectCode(decodeErr(Buffer.concat([good, Buffer.from([0x00])])), DecodeError, 'DECODE_ERROR');
    expectCode(decodeErr(Buffer.concat([good, good])), DecodeError, 'DECODE_ERROR');
  });

  it('SCHEMA_VIOLATION names the path, the type and the direction (inbound)', () => {
    const e = expectCode(decodeErr(pack({ timestamp: 1n, str: 'x'.repeat(66) })), SchemaViolationError, 'SCHEMA_VIOLATION');
    expect(e.path).toBe('/str');
    expect(e.typeName).toBe('messageexp');
    expect(e.direction).toBe('inbound');
    expect(e.message).toMatch(/messageexp/);

    // A bigint field sent as a plain integer (not int 64) breaks the schema.
    expect((decodeErr(pack({ timestamp: 1, str: 'x' })) as SchemaViolationError).path).toBe('/timestamp');
    expect((decodeErr(pack({ timestamp: 1n, str: '' })) as SchemaViolationError).path).toBe('/str');

    const ex1 = exampleRegistry.message('example1');
    let nested: unknown;
    try {
      codec.decodeMessage(ex1, pack({ strvec: [{ str: 'ok' }, { str: 5 }], data: 1 }));
    } catch (err) {
      nested = err;
    }
    expect(expectCode(nested, SchemaViolationError, 'SCHEMA_VIOLATION').path).toBe('/strvec/1/str');
    expect((nested as SchemaViolationError).typeName).toBe('example1');

    const echo = exampleRegistry.method('echo');
    let req: unknown;
    try {
      codec.decodeMethod(echo, 'request', pack({ timestamp: 1n }));
    } catch (err) {
      req = err;
    }
    expect((req as SchemaViolationError).typeName).toBe('echo request');
    expect((req as SchemaViolationError).path).toBe('/str');
  });

  it('SCHEMA_VIOLATION outbound: encode* refuses a bad value, with its path', () => {
    const bad = () => codec.encodeMessage('messageexp', { timestamp: 1n, str: 'y'.repeat(66) });
    let e: unknown;
    try {
      bad();
    } catch (err) {
      e = err;
    }
    const s = expectCode(e, SchemaViolationError, 'SCHEMA_VIOLATION');
    expect([s.path, s.typeName, s.direction]).toEqual(['/str', 'messageexp', 'outbound']);
    let r: unknown;
    try {
      codec.encodeResponse('sum', { total: 'many' as unknown as number });
    } catch (err) {
      r = err;
    }
    expect([(r as SchemaViolationError).path, (r as SchemaViolationError).typeName]).toEqual(['/total', 'sum response']);
    let n: unknown;
    try {
      codec.encodeMessage('example1', { strvec: [{ str: 1 as unknown as string }], data: 0 });
    } catch (err) {
      n = err;
    }
    expect((n as SchemaViolationError).path).toBe('/strvec/0/str');
  });

  it('validateOutbound rejects before encoding; without it the bytes go out and the receiver rejects them', () => {
    // 2^64 cannot be packed at all (msgpackr throws a RangeError): a SchemaViolationError instead
    // proves the check ran first.
    const value = { timestamp: 2n ** 64n, str: 'z'.repeat(66) };
    expect(() => codec.encodeMessage('messageexp', value)).toThrow(SchemaViolationError);
    const loose = new Codec(exampleRegistry, { validateOutbound: false });
    expect(loose.validateOutbound).toBe(false);
    expect(() => loose.encodeMessage('messageexp', value)).toThrow(RangeError);
    const bytes = loose.encodeMessage('messageexp', { timestamp: 1n, str: 'z'.repeat(66) });
    expect(() => codec.decodeMessage(mexp, bytes)).toThrow(expect.objectContaining({ code: 'SCHEMA_VIOLATION', direction: 'inbound' }));
  });

  it('an unknown name is UNKNOWN_NAME', () => {
    // @ts-expect-error 'nope' is not a message of exampleRegistry
    expect(() => codec.encodeMessage('nope', {})).toThrow(expect.objectContaining({ code: 'UNKNOWN_NAME' }));
    expect(() => exampleRegistry.method('nope')).toThrow(UnknownNameError);
  });
});

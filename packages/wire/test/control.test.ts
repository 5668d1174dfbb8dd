/** Control payloads: HELLO, ErrorPayload, CLOCK_REQUEST / CLOCK_RESPONSE. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleRegistry } from '../src/examples.js';
import {
  CLOCK_REQUEST_SIZE,
  CLOCK_RESPONSE_SIZE,
  ControlType,
  DecodeError,
  FrameEncoder,
  Kind,
  MAX_FRAME_CEILING,
  PROTOCOL_VERSION,
  SchemaViolationError,
  decodeClockRequest,
  decodeClockResponse,
  decodeErrorPayload,
  decodeHello,
  encodeClockRequest,
  encodeClockResponse,
  encodeErrorPayload,
  encodeHello,
  pack,
  stampClockResponse,
  type Hello,
} from '../src/index.js';
import { INT64_MAX, INT64_MIN, RUNS, decodeAll } from './helpers.js';

const int64 = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });

const hello = (over: Partial<Hello> = {}): Hello => ({
  version: PROTOCOL_VERSION,
  fingerprint: exampleRegistry.fingerprint,
  name: 'guest-1',
  maxFrame: 16 * 1024 * 1024,
  inlineLimit: 4096,
  types: exampleRegistry.summary.map((s) => [s.id, s.name, s.kind === 'message' ? 'm' : 'r', s.hash] as [number, string, string, string]),
  ...over,
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('HELLO', () => {
  it('round trips, with and without features, through a CONTROL frame', () => {
    for (const h of [hello(), hello({ features: ['clock'] })]) {
      const enc = new FrameEncoder();
      enc.push(Kind.CONTROL, ControlType.HELLO, 0, encodeHello(h));
      const [f] = decodeAll(enc.take());
      expect([f!.kind, f!.type, f!.id]).toEqual([Kind.CONTROL, 0xff00, 0]);
      expect(decodeHello(f!.payload)).toEqual(h);
    }
  });

  it('ignores unknown keys', () => {
    const withExtra = { ...hello(), future: { x: 1 } };
    expect(decodeHello(pack(withExtra))).toMatchObject(hello());
  });

  it('refuses a HELLO that breaks its schema, with the path', () => {
    const cases: [unknown, string][] = [
      [{ ...hello(), version: '1' }, '/version'],
      [{ ...hello(), name: 'n'.repeat(257) }, '/name'],
      [{ ...hello(), maxFrame: 1023 }, '/maxFrame'],
      [{ ...hello(), maxFrame: MAX_FRAME_CEILING + 1 }, '/maxFrame'], // PROTOCOL.md §2: at most 1 GiB
      [{ ...hello(), types: [[1, 'a', 'm']] }, '/types/0'],
      [{ ...hello(), features: [7] }, '/features/0'],
      [(({ fingerprint: _f, ...rest }) => rest)(hello()), '/fingerprint'],
    ];
    for (const [value, path] of cases) {
      const e = thrown(() => decodeHello(pack(value)));
      expect(e, path).toBeInstanceOf(SchemaViolationError);
      expect((e as SchemaViolationError).path).toBe(path);
      expect((e as SchemaViolationError).typeName).toBe('HELLO');
    }
    expect(decodeHello(pack({ ...hello(), maxFrame: 1024 })).maxFrame).toBe(1024);
    expect(decodeHello(pack({ ...hello(), maxFrame: MAX_FRAME_CEILING })).maxFrame).toBe(MAX_FRAME_CEILING);
    expect(thrown(() => decodeHello(Buffer.from([0x82, 0xa1])))).toBeInstanceOf(DecodeError);
  });
});

describe('ErrorPayload', () => {
  it('round trips with and without details', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 128 }),
        fc.string({ maxLength: 300 }),
        fc.option(
          fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"')),
          { nil: undefined },
        ),
        (code, message, details) => {
          const p = details === undefined ? { code, message } : { code, message, details };
          const back = decodeErrorPayload(encodeErrorPayload(p));
          expect(back).toEqual(JSON.parse(JSON.stringify(p)));
          if (details === undefined) expect('details' in back).toBe(false);
        },
      ),
      RUNS,
    );
  });

  it('a "__proto__" key in details is renamed by msgpackr and never reaches a prototype (known lossy case)', () => {
    const back = decodeErrorPayload(pack({ code: 'C', message: 'm', details: JSON.parse('{"__proto__":{"polluted":1}}') }));
    expect(Object.keys(back.details as object)).toEqual(['__proto_']);
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(back.details)).toBe(Object.prototype);
  });

  it('details may hold bigints and binary; a missing code or an over-long one is refused', () => {
    const back = decodeErrorPayload(
      encodeErrorPayload({ code: 'INVALID_ARGUMENT', message: 'bad', details: { path: '/str', n: 2n ** 60n, raw: new Uint8Array([1]) } }),
    );
    expect(back.details).toMatchObject({ path: '/str', n: 2n ** 60n });
    expect(thrown(() => decodeErrorPayload(pack({ message: 'no code' })))).toBeInstanceOf(SchemaViolationError);
    expect((thrown(() => decodeErrorPayload(pack({ code: 'C'.repeat(129), message: '' }))) as SchemaViolationError).path).toBe('/code');
    expect((thrown(() => decodeErrorPayload(pack({ code: 'C', message: 5 }))) as SchemaViolationError).typeName).toBe('ERROR');
  });
});

describe('CLOCK_REQUEST / CLOCK_RESPONSE', () => {
  it('encode and decode every int64, little-endian at the documented offsets', () => {
    fc.assert(
      fc.property(int64, int64, int64, (t1, t1r, t2r) => {
        const q = encodeClockRequest(t1);
        expect(q.length).toBe(CLOCK_REQUEST_SIZE);
        expect(q.readBigInt64LE(0)).toBe(t1);
        expect(decodeClockRequest(q)).toBe(t1);
        const r = encodeClockResponse({ t1, t1r, t2r });
        expect(r.length).toBe(CLOCK_RESPONSE_SIZE);
        expect([r.readBigInt64LE(0), r.readBigInt64LE(8), r.readBigInt64LE(16)]).toEqual([t1, t1r, t2r]);
        expect(decodeClockResponse(r)).toEqual({ t1, t1r, t2r });
      }),
      RUNS,
    );
    expect(encodeClockRequest(0x0102030405060708n).toString('hex')).toBe('0807060504030201');
  });

  it('decode from a view at an offset (a frame payload inside a larger chunk)', () => {
    const chunk = Buffer.concat([Buffer.from([9, 9, 9]), encodeClockResponse({ t1: -1n, t1r: 2n, t2r: INT64_MAX }), Buffer.from([9])]);
    expect(decodeClockResponse(new Uint8Array(chunk.buffer, chunk.byteOffset + 3, 24))).toEqual({ t1: -1n, t1r: 2n, t2r: INT64_MAX });
    const q = Buffer.concat([Buffer.from([7]), encodeClockRequest(INT64_MIN)]);
    expect(decodeClockRequest(q.subarray(1))).toBe(INT64_MIN);
  });

  it('stampClockResponse overwrites T2′ only', () => {
    fc.assert(
      fc.property(int64, int64, int64, int64, (t1, t1r, t2r, stamp) => {
        const r = encodeClockResponse({ t1, t1r, t2r });
        stampClockResponse(r, stamp);
        expect(decodeClockResponse(r)).toEqual({ t1, t1r, t2r: stamp });
      }),
      RUNS,
    );
  });

  it('wrong sizes are DECODE_ERROR', () => {
    for (const n of [0, 7, 9, 16, 24]) {
      const e = thrown(() => decodeClockRequest(Buffer.alloc(n)));
      expect(e, `request of ${n}`).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).code).toBe('DECODE_ERROR');
      expect((e as DecodeError).typeName).toBe('CLOCK_REQUEST');
    }
    for (const n of [0, 8, 16, 23, 25, 32]) {
      const e = thrown(() => decodeClockResponse(Buffer.alloc(n)));
      expect(e, `response of ${n}`).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).typeName).toBe('CLOCK_RESPONSE');
    }
  });
});

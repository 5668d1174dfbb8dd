/** Registry declaration rules, merging, lookups, and the static types a registry gives its users. */
import { Type, type TSchema } from '@sinclair/typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { exampleRegistry, type ExampleRegistry, type Polymorph } from '../src/examples.js';
import {
  Codec,
  RegistryDefinitionError,
  UnknownNameError,
  defineRegistry,
  mergeRegistries,
  type MessageName,
  type MessageOf,
  type MethodName,
  type RequestOf,
  type ResponseOf,
} from '../src/index.js';

const S = Type.Object({ a: Type.String() });

function defErr(fn: () => unknown): RegistryDefinitionError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RegistryDefinitionError);
  expect((err as RegistryDefinitionError).code).toBe('REGISTRY_DEFINITION');
  return err as RegistryDefinitionError;
}

describe('defineRegistry refuses bad declarations', () => {
  it('a duplicate id, across messages and across messages and methods', () => {
    expect(defErr(() => defineRegistry({ messages: { a: { id: 3, schema: S }, b: { id: 3, schema: S } } })).message).toMatch(/'a' and 'b'/);
    defErr(() => defineRegistry({ messages: { a: { id: 3, schema: S } }, methods: { m: { id: 3, request: S, response: S } } }));
    defErr(() => defineRegistry({ methods: { m: { id: 9, request: S, response: S }, n: { id: 9, request: S, response: S } } }));
  });

  it('a duplicate name across messages and methods', () => {
    expect(defErr(() => defineRegistry({ messages: { same: { id: 1, schema: S } }, methods: { same: { id: 2, request: S, response: S } } })).message).toMatch(
      /both a message and a method/,
    );
  });

  it('reserved ids 0xFF00 … 0xFFFF', () => {
    for (const id of [0xff00, 0xff01, 0xff06, 0xfffe, 0xffff]) {
      expect(defErr(() => defineRegistry({ messages: { a: { id, schema: S } } })).message).toMatch(/reserved/);
      defErr(() => defineRegistry({ methods: { m: { id, request: S, response: S } } }));
    }
  });

  it('negative, non-integer, non-number and out-of-range ids', () => {
    for (const id of [-1, -0.5, 1.5, NaN, Infinity, -Infinity, 0x10000, 2 ** 32, '5' as unknown as number, undefined as unknown as number]) {
      expect(defErr(() => defineRegistry({ messages: { a: { id, schema: S } } })).message).toMatch(/0 … 0xFEFF/);
    }
  });

  it('accepts the boundary ids 0 and 0xFEFF', () => {
    const r = defineRegistry({ messages: { lo: { id: 0, schema: S } }, methods: { hi: { id: 0xfeff, request: S, response: S } } });
    expect(r.messageById(0)?.name).toBe('lo');
    expect(r.methodById(0xfeff)?.name).toBe('hi');
    expect(r.summary.map((s) => [s.id, s.name, s.kind])).toEqual([
      [0, 'lo', 'message'],
      [0xfeff, 'hi', 'method'],
    ]);
  });

  it('bad names', () => {
    for (const name of ['', '1abc', 'a b', 'a/b', 'é', '-x', '.x', 'x'.repeat(129), 'a\n']) {
      defErr(() => defineRegistry({ messages: { [name]: { id: 1, schema: S } } }));
      defErr(() => defineRegistry({ methods: { [name]: { id: 1, request: S, response: S } } }));
    }
    for (const name of ['_a', 'A', 'a.b:c-d_9', 'x'.repeat(128)]) {
      expect(defineRegistry({ messages: { [name]: { id: 1, schema: S } } }).message(name).name).toBe(name);
    }
  });
});

describe('lookups', () => {
  it('by name and by id, each kind in its own space', () => {
    const r = exampleRegistry;
    expect(r.message('messageexp').id).toBe(4);
    expect(r.messageById(4)?.name).toBe('messageexp');
    expect(r.method('echo').id).toBe(100);
    expect(r.methodById(100)?.name).toBe('echo');
    expect(r.messageById(100)).toBeUndefined();
    expect(r.methodById(4)).toBeUndefined();
    expect(r.messageById(0xff00)).toBeUndefined();
    expect(() => r.message('echo')).toThrow(UnknownNameError);
    expect(() => r.method('messageexp')).toThrow(expect.objectContaining({ code: 'UNKNOWN_NAME' }));
    expect(r.message('example2').check.Check({ strvec: [], data: 1 })).toBe(true);
    expect(r.method('sum').checkResponse.Check({ total: 'x' })).toBe(false);
  });
});

describe('mergeRegistries', () => {
  const a = defineRegistry({ messages: { a1: { id: 1, schema: S } }, methods: { am: { id: 2, request: S, response: S } } });

  it('joins disjoint registries into the one that declares everything', () => {
    const b = defineRegistry({ messages: { b1: { id: 3, schema: S } }, methods: { bm: { id: 4, request: S, response: S } } });
    const m = mergeRegistries(a, b);
    expect(m.messageNames().sort()).toEqual(['a1', 'b1']);
    expect(m.methodNames().sort()).toEqual(['am', 'bm']);
    expect(m.methodById(4)?.name).toBe('bm');
    const direct = defineRegistry({
      messages: { a1: { id: 1, schema: S }, b1: { id: 3, schema: S } },
      methods: { am: { id: 2, request: S, response: S }, bm: { id: 4, request: S, response: S } },
    });
    expect(m.fingerprint).toBe(direct.fingerprint);
    expect(mergeRegistries(b, a).fingerprint).toBe(direct.fingerprint);
  });

  it('refuses a name declared in both (message/message, method/method, message/method)', () => {
    defErr(() => mergeRegistries(a, defineRegistry({ messages: { a1: { id: 10, schema: S } } })));
    defErr(() => mergeRegistries(a, defineRegistry({ methods: { am: { id: 10, request: S, response: S } } })));
    defErr(() => mergeRegistries(a, defineRegistry({ methods: { a1: { id: 10, request: S, response: S } } })));
    defErr(() => mergeRegistries(a, defineRegistry({ messages: { am: { id: 10, schema: S } } })));
  });

  it('refuses an id declared in both', () => {
    expect(defErr(() => mergeRegistries(a, defineRegistry({ messages: { other: { id: 1, schema: S } } }))).message).toMatch(/declared twice/);
    defErr(() => mergeRegistries(a, defineRegistry({ methods: { other: { id: 2, request: S, response: S } } })));
  });

  it('does not mistake Object.prototype members for declared names', () => {
    const b = defineRegistry({
      messages: { constructor: { id: 5, schema: S }, toString: { id: 6, schema: S } },
      methods: { valueOf: { id: 7, request: S, response: S } },
    });
    const m = mergeRegistries(a, b);
    expect(m.message('constructor').id).toBe(5);
    expect(m.method('valueOf').id).toBe(7);
  });
});

describe('static types', () => {
  const codec = new Codec(exampleRegistry);

  it("names are string-literal unions and payloads are the schemas' static types", () => {
    expectTypeOf<MessageName<ExampleRegistry>>().toEqualTypeOf<'example0' | 'example1' | 'example2' | 'timestamps' | 'messageexp' | 'polymorph'>();
    expectTypeOf<MethodName<ExampleRegistry>>().toEqualTypeOf<'echo' | 'sum'>();
    expectTypeOf<MessageOf<ExampleRegistry, 'messageexp'>>().toEqualTypeOf<{ timestamp: bigint; str: string }>();
    expectTypeOf<MessageOf<ExampleRegistry, 'example2'>>().toEqualTypeOf<{ strvec: { str: string }[]; data: number; ptr?: number }>();
    expectTypeOf<RequestOf<ExampleRegistry, 'sum'>>().toEqualTypeOf<{ items: { strvec: { str: string }[]; data: number }[] }>();
    expectTypeOf<ResponseOf<ExampleRegistry, 'sum'>>().toEqualTypeOf<{ total: number }>();
    expectTypeOf(codec.encodeMessage<'timestamps'>)
      .parameter(1)
      .toEqualTypeOf<{ t1: bigint; t2: bigint }>();
    expectTypeOf(codec.encodeMessage).returns.toEqualTypeOf<Buffer>();

    const _bin = defineRegistry({ messages: { blob: { id: 1, schema: Type.Object({ data: Type.Uint8Array(), n: Type.Optional(Type.BigInt()) }) } } });
    expectTypeOf<MessageOf<typeof _bin, 'blob'>>().toEqualTypeOf<{ data: Uint8Array; n?: bigint }>();
  });

  it('the polymorph union narrows on its tag', () => {
    const describe = (p: Polymorph): string => {
      switch (p.type) {
        case 'example0':
          expectTypeOf(p.value).toEqualTypeOf<{ str: string }>();
          return p.value.str;
        case 'example1':
          return String(p.value.data);
        case 'example2':
          expectTypeOf(p.value.ptr).toEqualTypeOf<number | undefined>();
          return String(p.value.ptr ?? p.value.data);
      }
    };
    expect(describe({ type: 'example0', value: { str: 's' } })).toBe('s');
    expect(describe({ type: 'example2', value: { strvec: [], data: 3 } })).toBe('3');
  });

  it('a wrong payload or a wrong type name does not compile (and is refused at run time)', () => {
    // @ts-expect-error timestamp must be a bigint, not a number
    expect(() => codec.encodeMessage('messageexp', { timestamp: 1, str: 'x' })).toThrow(expect.objectContaining({ code: 'SCHEMA_VIOLATION' }));
    // @ts-expect-error str is missing
    expect(() => codec.encodeMessage('messageexp', { timestamp: 1n })).toThrow(expect.objectContaining({ code: 'SCHEMA_VIOLATION' }));
    // @ts-expect-error 'messageExp' is not a declared name (names are case-sensitive)
    expect(() => codec.encodeMessage('messageExp', { timestamp: 1n, str: 'x' })).toThrow(UnknownNameError);
    // @ts-expect-error 'echo' is a method, not a message
    expect(() => codec.encodeMessage('echo', { timestamp: 1n, str: 'x' })).toThrow(UnknownNameError);
    // @ts-expect-error the response of 'sum' is { total: number }
    expect(() => codec.encodeResponse('sum', { items: [] })).toThrow(expect.objectContaining({ code: 'SCHEMA_VIOLATION' }));
    // @ts-expect-error a polymorph branch must carry the value of its tag
    expect(() => codec.encodeMessage('polymorph', { type: 'example0', value: { strvec: [], data: 1 } })).toThrow(
      expect.objectContaining({ code: 'SCHEMA_VIOLATION' }),
    );
    // The correct calls compile.
    expect(codec.encodeMessage('messageexp', { timestamp: 1n, str: 'x' })).toBeInstanceOf(Buffer);
    expect(codec.encodeRequest('echo', { timestamp: 1n, str: 'x' })).toBeInstanceOf(Buffer);
  });

  it('a registry declared with generic schemas still type-checks its names', () => {
    const defs: Record<string, { id: number; schema: TSchema }> = { x: { id: 1, schema: S } };
    const _r = defineRegistry({ messages: defs });
    expectTypeOf<MessageName<typeof _r>>().toEqualTypeOf<string>();
  });
});

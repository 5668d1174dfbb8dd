/**
 * The C++ demo's own message set (its `testcase.h` and `mesgtype.h`), declared as a registry.
 * A worked example of every shape the original serialised with cereal: a string, an STL vector
 * with an int, inheritance (a base class's fields plus its own), int64 timestamps, the tracing
 * message, and polymorphism (a tagged union). The TYPE_ ids follow the original enum's order.
 *
 * Import it as `@vsock-rpc/wire/examples`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineRegistry } from './registry.js';

/** `example0`: a single string. */
export const Example0 = Type.Object({ str: Type.String() });
/** `example1`: a vector of example0 and an int (`std::vector<example0> strvec; int data`). */
export const Example1 = Type.Object({ strvec: Type.Array(Example0), data: Type.Integer({ minimum: -(2 ** 31), maximum: 2 ** 31 - 1 }) });
/**
 * `example2`: derives from example1 and adds an optional double — the C++
 * `ar(cereal::base_class<example1>(this), ptr)` case, as schema composition.
 */
export const Example2 = Type.Composite([Example1, Type.Object({ ptr: Type.Optional(Type.Number()) })]);
/** `timestamps`: two int64 nanosecond timestamps (the original's clock exchange payload). */
export const Timestamps = Type.Object({ t1: Type.BigInt(), t2: Type.BigInt() });
/** `messageexp`: the tracing event of the demo: a monotonic ns timestamp and 1..65 characters. */
export const MessageExp = Type.Object({ timestamp: Type.BigInt(), str: Type.String({ minLength: 1, maxLength: 65 }) });
/**
 * `polymorph`: the polymorphic case (a `Base*` that may hold Derived1 or Derived2), as a union
 * tagged by `type`. TypeBox narrows on the tag, so a handler `switch`es with full types.
 */
export const Polymorph = Type.Union([
  Type.Object({ type: Type.Literal('example0'), value: Example0 }),
  Type.Object({ type: Type.Literal('example1'), value: Example1 }),
  Type.Object({ type: Type.Literal('example2'), value: Example2 }),
]);

/** The static type of `example0`. */
export type Example0 = Static<typeof Example0>;
/** The static type of `example1`. */
export type Example1 = Static<typeof Example1>;
/** The static type of `example2`. */
export type Example2 = Static<typeof Example2>;
/** The static type of `timestamps`. */
export type Timestamps = Static<typeof Timestamps>;
/** The static type of `messageexp`. */
export type MessageExp = Static<typeof MessageExp>;
/** The static type of `polymorph`. */
export type Polymorph = Static<typeof Polymorph>;

/** The demo's registry: its five classes, the polymorphic union, and two example methods. */
export const exampleRegistry = defineRegistry({
  messages: {
    example0: { id: 0, schema: Example0 },
    example1: { id: 1, schema: Example1 },
    example2: { id: 2, schema: Example2 },
    timestamps: { id: 3, schema: Timestamps },
    messageexp: { id: 4, schema: MessageExp },
    polymorph: { id: 5, schema: Polymorph },
  },
  methods: {
    /** Returns its argument: the round-trip benchmark's call. */
    echo: { id: 100, request: MessageExp, response: MessageExp },
    /** Sums example1.data over a list: a call whose response differs from its request. */
    sum: { id: 101, request: Type.Object({ items: Type.Array(Example1, { maxItems: 10000 }) }), response: Type.Object({ total: Type.Number() }) },
  },
});
/** The type of {@link exampleRegistry}, for `ClientEngine<ExampleRegistry>` and the like. */
export type ExampleRegistry = typeof exampleRegistry;

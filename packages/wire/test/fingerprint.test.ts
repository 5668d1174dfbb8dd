/** The registry fingerprint (PROTOCOL.md §7): stable across processes, sensitive to every schema change. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Type, type TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { exampleRegistry } from '../src/examples.js';
import { canonicalJson, defineRegistry, type Registry } from '../src/index.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** Runs an ES module snippet in a fresh node process (importing the built dist) and returns its stdout. */
function inFreshNode(code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 }).trim();
}

/** PROTOCOL.md §7 canonical JSON, written again from the text (keys sorted, undefined left out, `required` sorted). */
function specCanonical(v: unknown): string {
  if (typeof v === 'bigint') return `{"$bigint":"${v}"}`;
  if (Array.isArray(v)) return `[${v.map(specCanonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(v)
      .filter((k) => o[k] !== undefined)
      .sort();
    const field = (k: string) => (k === 'required' && Array.isArray(o[k]) ? [...(o[k] as string[])].sort() : o[k]);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${specCanonical(field(k))}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function entriesOf(r: Registry): unknown[] {
  return r.summary.map((s) =>
    s.kind === 'message'
      ? { id: s.id, kind: 'message', name: s.name, schema: r.message(s.name).schema }
      : { id: s.id, kind: 'method', name: s.name, request: r.method(s.name).request, response: r.method(s.name).response },
  );
}

const mexp = (max = 65) => Type.Object({ timestamp: Type.BigInt(), str: Type.String({ minLength: 1, maxLength: max }) });
const base = () =>
  defineRegistry({
    messages: { a: { id: 1, schema: mexp() }, b: { id: 2, schema: Type.Object({ n: Type.Integer() }) } },
    methods: { m: { id: 10, request: Type.Object({ q: Type.String() }), response: Type.Object({ r: Type.Number() }) } },
  });

describe('fingerprint', () => {
  it('has the documented shape and follows the §7 algorithm', () => {
    const r = exampleRegistry;
    expect(r.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(r.summary.map((s) => s.id)).toEqual([...r.summary.map((s) => s.id)].sort((x, y) => x - y));
    for (const s of r.summary) expect(s.hash).toMatch(/^[0-9a-f]{16}$/);
    const entries = entriesOf(r);
    expect(r.fingerprint).toBe(sha(specCanonical(entries)).slice(0, 32));
    expect(r.summary.map((s) => s.hash)).toEqual(entries.map((e) => sha(specCanonical(e)).slice(0, 16)));
    expect(canonicalJson(entries)).toBe(specCanonical(entries));
  });

  it('is equal in two separate node processes (built dist), and to this process', () => {
    const code =
      "import { exampleRegistry } from '@vsock-rpc/wire/examples'; console.log(exampleRegistry.fingerprint, JSON.stringify(exampleRegistry.summary));";
    const one = inFreshNode(code);
    const two = inFreshNode(code);
    expect(one).toBe(two);
    expect(one.split(' ')[0]).toBe(exampleRegistry.fingerprint);
    expect(JSON.parse(one.slice(one.indexOf(' ') + 1))).toEqual(exampleRegistry.summary);
  });

  it('a fresh process declaring the same schemas in another order gets the same fingerprint', () => {
    // Entries in reverse order, schema options and object keys written in another order.
    const out = inFreshNode(`
      import { Type } from '@sinclair/typebox';
      import { defineRegistry } from '@vsock-rpc/wire';
      const r = defineRegistry({
        methods: { m: { response: Type.Object({ r: Type.Number() }), request: Type.Object({ q: Type.String() }), id: 10 } },
        messages: {
          b: { schema: Type.Object({ n: Type.Integer() }), id: 2 },
          a: { id: 1, schema: Type.Object({ timestamp: Type.BigInt(), str: Type.String({ maxLength: 65, minLength: 1 }) }) },
        },
      });
      console.log(r.fingerprint);`);
    expect(out).toBe(base().fingerprint);
  });

  it('is independent of the order of entries, of schema options and of optional properties', () => {
    const opt1 = Type.Object({ x: Type.Optional(Type.String()), y: Type.Optional(Type.BigInt()) });
    const opt2 = Type.Object({ y: Type.Optional(Type.BigInt()), x: Type.Optional(Type.String()) });
    const one = defineRegistry({ messages: { p: { id: 1, schema: opt1 }, q: { id: 2, schema: Type.String({ minLength: 1, maxLength: 9 }) } } });
    const two = defineRegistry({ messages: { q: { id: 2, schema: Type.String({ maxLength: 9, minLength: 1 }) }, p: { id: 3 - 2, schema: opt2 } } });
    expect(two.fingerprint).toBe(one.fingerprint);
    expect(two.summary).toEqual(one.summary);
    // Descriptions are not part of the fingerprint.
    const described = defineRegistry({
      messages: { p: { id: 1, schema: opt1, description: 'doc' }, q: { id: 2, schema: Type.String({ minLength: 1, maxLength: 9 }) } },
    });
    expect(described.fingerprint).toBe(one.fingerprint);
  });

  // TypeBox lists `required` in declaration order; §7 sorts it, so two wire-compatible peers that
  // declared the same properties in another order still agree at HELLO.
  it('is independent of the declaration order of required properties', () => {
    const one = defineRegistry({ messages: { a: { id: 1, schema: Type.Object({ timestamp: Type.BigInt(), str: Type.String() }) } } });
    const two = defineRegistry({ messages: { a: { id: 1, schema: Type.Object({ str: Type.String(), timestamp: Type.BigInt() }) } } });
    expect(two.fingerprint).toBe(one.fingerprint);
  });

  describe('changes with any schema change, and the summary hash pinpoints the entry', () => {
    const before = base();
    const variants: [string, () => Registry, string][] = [
      ['a maxLength', () => defineRegistry({ messages: { a: { id: 1, schema: mexp(66) }, b: before.messages.b }, methods: before.methods }), 'a'],
      [
        'an added optional field',
        () =>
          defineRegistry({
            messages: { a: before.messages.a, b: { id: 2, schema: Type.Object({ n: Type.Integer(), extra: Type.Optional(Type.String()) }) } },
            methods: before.methods,
          }),
        'b',
      ],
      [
        'a type (integer → number)',
        () => defineRegistry({ messages: { a: before.messages.a, b: { id: 2, schema: Type.Object({ n: Type.Number() }) } }, methods: before.methods }),
        'b',
      ],
      ['an id', () => defineRegistry({ messages: { a: before.messages.a, b: { id: 3, schema: before.messages.b.schema } }, methods: before.methods }), 'b'],
      ['a name', () => defineRegistry({ messages: { a: before.messages.a, bb: before.messages.b }, methods: before.methods }), 'bb'],
      [
        'a method response',
        () =>
          defineRegistry({
            messages: before.messages,
            methods: { m: { id: 10, request: before.methods.m.request, response: Type.Object({ r: Type.Integer() }) } },
          }),
        'm',
      ],
      [
        'request and response swapped',
        () => defineRegistry({ messages: before.messages, methods: { m: { id: 10, request: before.methods.m.response, response: before.methods.m.request } } }),
        'm',
      ],
      [
        'a message becoming a method',
        () =>
          defineRegistry({
            messages: { a: before.messages.a },
            methods: { ...before.methods, b: { id: 2, request: before.messages.b.schema, response: before.messages.b.schema } },
          }),
        'b',
      ],
    ];
    for (const [what, make, changed] of variants) {
      it(what, () => {
        const after = make();
        expect(after.fingerprint).not.toBe(before.fingerprint);
        const beforeByName = new Map(before.summary.map((s) => [s.name, s]));
        const differing = after.summary.filter((s) => {
          const b = beforeByName.get(s.name);
          return !b || b.hash !== s.hash || b.id !== s.id;
        });
        expect(differing.map((s) => s.name)).toEqual([changed]);
      });
    }
    it('and an unchanged copy does not change it', () => {
      expect(base().fingerprint).toBe(before.fingerprint);
      const copy = defineRegistry({ messages: { ...before.messages }, methods: { ...before.methods } });
      expect(copy.summary).toEqual(before.summary);
    });
  });

  it('canonical JSON spells out bigints, binary and nested keys deterministically', () => {
    const schema: TSchema = Type.BigInt({ default: 5n, examples: [new Uint8Array([0xab, 1])] }) as TSchema;
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [schema.default, new Uint8Array([0xab])] } })).toBe(
      '{"a":{"c":[{"$bigint":"5"},{"$bytes":"ab"}]},"b":1}',
    );
    expect(canonicalJson(schema)).toBe('{"default":{"$bigint":"5"},"examples":[{"$bytes":"ab01"}],"type":"bigint"}');
  });
});

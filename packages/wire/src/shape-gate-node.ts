import { Kind, type TSchema } from '@sinclair/typebox';

/**
 * The schema side of the shape gate (shape-gate.ts): a schema compiled into the nodes both the
 * interpreter (shape-gate.ts) and the generated fast path (shape-gate-fast.ts) judge bytes by,
 * so the two read the same constants.
 */

// Value classes of MessagePack type bytes, as msgpackr decodes them (PROTOCOL.md §3).
export const NIL = 1,
  BOOL = 2,
  INT = 4,
  FLOAT = 8,
  BIG = 16,
  STR = 32,
  BIN = 64,
  ARR = 128,
  MAP = 256;
export const ALL = 511;
export const CLASS_NAMES: readonly [number, string][] = [
  [NIL, 'nil'],
  [BOOL, 'boolean'],
  [INT, 'integer'],
  [FLOAT, 'float'],
  [BIG, 'int 64'],
  [STR, 'string'],
  [BIN, 'binary'],
  [ARR, 'array'],
  [MAP, 'map'],
];

/** Node kinds. */
export const K = { Any: 0, Leaf: 1, Array: 2, Tuple: 3, Object: 4, Record: 5, Union: 6 } as const;
export type K = (typeof K)[keyof typeof K];

export interface Node {
  readonly k: K;
  /** Classes this node can accept (others are refused at the type byte). */
  readonly allow: number;
  readonly expected: string;
  // Leaf (strings, binary): bounds on the byte length, derived from the schema.
  readonly strMin: number;
  readonly strMax: number;
  readonly binMin: number;
  readonly binMax: number;
  // Array / Tuple.
  readonly minItems: number;
  readonly maxItems: number;
  readonly item: Node | undefined;
  readonly items: readonly Node[];
  // Object.
  readonly names: readonly Uint8Array[];
  readonly segments: readonly string[];
  readonly props: readonly Node[];
  /** A non-empty bin can pass this object schema (TypeBox sees a Uint8Array as an object). */
  readonly binAnyLength: boolean;
  /** Bit j: declared property j (j < 31) is required. */
  readonly requiredMask: number;
  /** `additionalProperties: false`: an undeclared key refuses the object. */
  readonly closed: boolean;
  /**
   * Classes of non-string keys that could decode to a declared name: msgpackr turns a key nil
   * into 'null', a boolean into 'true' / 'false', a number or bigint into its decimal string
   * (`asSafeString`), and refuses a binary one. A key of another class is an undeclared name.
   */
  readonly keyClasses: number;
  // Record: the value schema, and whether every key is checked (pattern `^(.*)$`).
  readonly value: Node | undefined;
  // Union.
  readonly members: readonly Node[];
}

export const ANY: Node = node(K.Any, ALL, 'anything');

function node(k: K, allow: number, expected: string, extra: Partial<Node> = {}): Node {
  return {
    k,
    allow,
    expected,
    strMin: 0,
    strMax: Infinity,
    binMin: 0,
    binMax: Infinity,
    minItems: 0,
    maxItems: Infinity,
    item: undefined,
    items: [],
    names: [],
    segments: [],
    props: [],
    binAnyLength: false,
    requiredMask: 0,
    closed: false,
    keyClasses: ALL,
    value: undefined,
    members: [],
    ...extra,
  };
}

/** Compiles `schema` into the gate's nodes. Kinds it does not know are skipped (left to TypeBox). */
export function compileNode(schema: TSchema): Node {
  return compile(schema, 0);
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function compile(s: TSchema, depth: number): Node {
  // A schema nested this deep is unusual; past it the gate stops looking (TypeBox still checks).
  if (depth > 32) return ANY;
  const sc = s as Record<string, unknown>;
  switch ((s as unknown as Record<symbol, unknown>)[Kind]) {
    case 'String':
      // UTF-16 length u of L bytes of str, however msgpackr decodes them (valid or not):
      // ceil(L / 4) ≤ u ≤ L (PROTOCOL.md §3: lengths count UTF-16 code units).
      return node(K.Leaf, STR, 'string', { strMin: num(sc.minLength, 0), strMax: num(sc.maxLength, Infinity) });
    case 'Number':
    case 'Integer':
      return node(K.Leaf, INT | FLOAT, 'number');
    case 'BigInt':
      return node(K.Leaf, BIG, 'int 64 / uint 64 (bigint)');
    case 'Boolean':
      return node(K.Leaf, BOOL, 'boolean');
    case 'Null':
      return node(K.Leaf, NIL, 'nil');
    case 'Uint8Array':
      return node(K.Leaf, BIN, 'binary', { binMin: num(sc.minByteLength, 0), binMax: num(sc.maxByteLength, Infinity) });
    case 'Literal': {
      const c = sc.const;
      if (typeof c === 'string') return node(K.Leaf, STR, `the string literal`, { strMin: c.length, strMax: c.length });
      if (typeof c === 'number') return node(K.Leaf, INT | FLOAT, 'a number literal');
      if (typeof c === 'boolean') return node(K.Leaf, BOOL, 'a boolean literal');
      return ANY;
    }
    case 'Array':
      return node(K.Array, ARR, 'array', {
        minItems: num(sc.minItems, 0),
        maxItems: num(sc.maxItems, Infinity),
        item: sc.items ? compile(sc.items as TSchema, depth + 1) : ANY,
      });
    case 'Tuple': {
      const items = ((sc.items as TSchema[] | undefined) ?? []).map((i) => compile(i, depth + 1));
      return node(K.Tuple, ARR, 'array', { minItems: num(sc.minItems, items.length), maxItems: num(sc.maxItems, items.length), items });
    }
    case 'Object':
      return compileObject(sc, depth);
    case 'Record': {
      const patterns = Object.entries((sc.patternProperties as Record<string, TSchema> | undefined) ?? {});
      // Only the string-keyed record checks every entry; other key patterns are TypeBox's business.
      const value = patterns.length === 1 && patterns[0]![0] === '^(.*)$' ? compile(patterns[0]![1], depth + 1) : ANY;
      return node(K.Record, MAP, 'map', { value });
    }
    case 'Union': {
      const members = ((sc.anyOf as TSchema[] | undefined) ?? []).map((m) => compile(m, depth + 1));
      let allow = 0;
      for (const m of members) allow |= m.allow;
      if (members.some((m) => m.k === K.Any)) return ANY;
      return node(K.Union, allow, 'one of the union', { members });
    }
    default:
      // Unknown, Any, Intersect, Ref, This, Not, Unsafe, Date, …: not judged here.
      return ANY;
  }
}

const INDEX_LIKE = /^(0|[1-9][0-9]*)$/;

function compileObject(sc: Record<string, unknown>, depth: number): Node {
  const properties = (sc.properties as Record<string, TSchema> | undefined) ?? {};
  const required = (sc.required as string[] | undefined) ?? [];
  const entries = Object.entries(properties);
  // TypeBox's object check accepts a Uint8Array (msgpackr's bin) unless it lacks a required
  // property (only index-like names can be its own properties) or, with additionalProperties
  // false or a schema no byte value fits, has an undeclared index property (any non-empty bin).
  const binOk = required.every((r) => INDEX_LIKE.test(r));
  const ap = sc.additionalProperties;
  const apRefusesBytes = ap === false || (typeof ap === 'object' && ap !== null && (compile(ap as TSchema, depth + 1).allow & INT) === 0);
  const binAnyLength = binOk && !(apRefusesBytes && !entries.some(([n]) => INDEX_LIKE.test(n)));
  return node(K.Object, binOk ? MAP | BIN : MAP, 'map (object)', {
    names: entries.map(([n]) => Buffer.from(n, 'utf8')),
    segments: entries.map(([n]) => '/' + n.replace(/~/g, '~0').replace(/\//g, '~1')),
    props: entries.map(([, p]) => compile(p, depth + 1)),
    binAnyLength,
    requiredMask: entries.reduce((m, [name], j) => (j < 31 && required.includes(name) ? m | (1 << j) : m), 0),
    closed: ap === false,
    keyClasses: entries.reduce((m, [name]) => m | keyClassesOf(name), BIN),
  });
}

/** A superset of the names String(x) gives for a number or bigint x: '1', '-0.5', '1e+21', 'NaN', '-Infinity'. */
const NUMBER_LIKE = /^(-?[0-9]|NaN$|-?Infinity$)/;

/** The classes of non-string keys msgpackr may turn into `name`. */
function keyClassesOf(name: string): number {
  if (name === 'null') return NIL;
  if (name === 'true' || name === 'false') return BOOL;
  return NUMBER_LIKE.test(name) ? INT | FLOAT | BIG : 0;
}

import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox';

/**
 * Whether a value of `schema` can hold `undefined` somewhere: an optional property, Unknown,
 * Any or Undefined. Only such types need the packer that leaves undefined properties out
 * (msgpackr's `skipValues`), which costs about 15% of encode time; the rest use the plain one.
 */
export function mayContainUndefined(schema: TSchema, seen = new Set<TSchema>()): boolean {
  if (seen.has(schema)) return false;
  seen.add(schema);
  const kind = (schema as unknown as Record<symbol, unknown>)[Kind];
  if (kind === 'Unknown' || kind === 'Any' || kind === 'Undefined' || kind === 'Void') return true;
  if ((schema as unknown as Record<symbol, unknown>)[OptionalKind] === 'Optional') return true;
  // A schema this walker cannot see into (a reference, a recursive type) is treated as may-contain.
  if (kind === 'Ref' || kind === 'This' || kind === 'Recursive') return true;
  for (const value of Object.values(schema)) {
    if (isSchema(value) && mayContainUndefined(value, seen)) return true;
    if (Array.isArray(value)) for (const v of value) if (isSchema(v) && mayContainUndefined(v, seen)) return true;
    if (value && typeof value === 'object' && !Array.isArray(value) && !isSchema(value)) {
      for (const v of Object.values(value)) if (isSchema(v) && mayContainUndefined(v, seen)) return true;
    }
  }
  return false;
}

function isSchema(v: unknown): v is TSchema {
  return typeof v === 'object' && v !== null && Kind in v;
}

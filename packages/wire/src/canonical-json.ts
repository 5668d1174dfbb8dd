/**
 * Deterministic JSON for hashing schemas: object keys sorted, bigints and binary spelled out,
 * symbol keys (TypeBox's [Kind]) and undefined left out, and `required` arrays sorted. Two processes that declare the same
 * schemas produce the same text, whatever order they wrote the properties in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value));
}

function normalise(value: unknown): unknown {
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('hex') };
  if (value instanceof RegExp) return { $regexp: value.source, flags: value.flags };
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : normalise(v)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || typeof v === 'function') continue;
      // A JSON Schema's `required` is a set: declaring properties in another order must not
      // change the fingerprint.
      out[key] = key === 'required' && Array.isArray(v) && v.every((x) => typeof x === 'string') ? [...(v as string[])].sort() : normalise(v);
    }
    return out;
  }
  return value;
}

/**
 * Lookups where input meets a table. A plain object answers `constructor`, `__proto__`,
 * `toString`, ... with `Object.prototype`'s members, so a webhook field or a parameter named
 * like one of them found a function where a word was expected. Tables fed by input are
 * therefore Maps, and input objects are read by own property only.
 */

const readOnly = (): never => {
  throw new TypeError('lookup tables are read-only');
};

/**
 * A Map of an object literal's own entries: `get` finds nothing for a key the literal does not
 * name. Read-only at run time too (its mutators throw, the object is frozen), not only in its
 * type: one table serves every account of the process.
 */
export function lookupTable<V>(entries: Readonly<Record<string, V>>): ReadonlyMap<string, V> {
  const map = new Map<string, V>(Object.entries(entries));
  Object.defineProperties(map, { set: { value: readOnly }, delete: { value: readOnly }, clear: { value: readOnly } });
  return Object.freeze(map);
}

/** `value[key]` when `value` is an object having `key` as its own property, else undefined. */
export function ownProperty<V>(record: Readonly<Record<string, V>>, key: string): V | undefined;
export function ownProperty(value: unknown, key: string): unknown;
export function ownProperty(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  return Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

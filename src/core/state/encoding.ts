import { createHash, randomBytes } from 'node:crypto';

/** Longest key kept as given; a longer one (fed by input) is stored under its digest. */
export const MAX_KEY_LENGTH = 200;
/** Largest JSON value a store accepts. */
export const MAX_VALUE_BYTES = 1024 * 1024;
/** The longest TTL a store sets; a longer one is cut to it. */
export const MAX_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** How long a lease's fencing counter is kept after its last use: far beyond any lease. */
export const FENCE_COUNTER_TTL_MS = MAX_TTL_MS;

/** A whole number of milliseconds in [1, MAX_TTL_MS]. */
export function ttlOf(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs < 1) throw new RangeError(`TTL must be a positive number of milliseconds, not ${ttlMs}`);
  return Math.min(Math.ceil(ttlMs), MAX_TTL_MS);
}

/**
 * The key as stored under a namespace: as given, or its digest when it is too long (or starts with
 * `#`, so no key given can pose as another's digest).
 */
export function keyOf(namespace: string, key: string): string {
  const hashed = key.length > MAX_KEY_LENGTH || key.startsWith('#');
  const k = hashed ? `#sha256:${createHash('sha256').update(key).digest('base64url')}` : key;
  return `${namespace}${k}`;
}

/**
 * The namespaces of one config under `{keyPrefix}{configId}`: the caller's keys after `:`, the
 * store's own (leases, fencing counters, locks) after `#`, so no caller key can reach them.
 */
export function namespacesOf(keyPrefix: string, configId: string): { values: string; internal: string } {
  const base = `${keyPrefix}${configId}`;
  return { values: `${base}:`, internal: `${base}#` };
}

export function randomToken(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * A value as stored: a random version tag, `:`, its JSON. The tag changes with every write, so a
 * compare-and-set on the whole text never mistakes a rewritten value for the one it read.
 */
export function encodeValue(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('a stored value must be JSON');
  if (Buffer.byteLength(json) > MAX_VALUE_BYTES) throw new RangeError(`a stored value may hold at most ${MAX_VALUE_BYTES} bytes`);
  return `${randomToken()}:${json}`;
}

/** The value of a stored text; undefined for none or for text that is not one of ours. */
export function decodeValue<T>(stored: string | null | undefined): T | undefined {
  if (typeof stored !== 'string') return undefined;
  const colon = stored.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return JSON.parse(stored.slice(colon + 1)) as T;
  } catch {
    return undefined;
  }
}

/** A lease as stored: `{fence}:{owner}`. */
export function leaseValue(fence: number, owner: string): string {
  return `${fence}:${owner}`;
}

export function fenceOfLease(stored: string | null | undefined): number | undefined {
  if (typeof stored !== 'string') return undefined;
  const m = /^(\d+):/.exec(stored);
  return m ? Number(m[1]) : undefined;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

import { LruMap } from '../lru';
import { StoreError, StoreUnavailableError } from './errors';
import { FENCE_COUNTER_TTL_MS, decodeValue, encodeValue, fenceOfLease, keyOf, leaseValue, namespacesOf, ttlOf } from './encoding';
import { runWithLock } from './lock';
import type { HealthListener, Lease, LockOptions, LockResult, Reducer, StateStore, UpdateOptions } from './types';

export interface MemoryStoreOptions {
  keyPrefix?: string;
  configId: string;
  maxEntries?: number;
  maxBytes?: number;
  now?: () => number;
}

interface Entry {
  text: string;
  expiresAt: number;
}

export const MEMORY_STORE_MAX_ENTRIES = 100000;
export const MEMORY_STORE_MAX_BYTES = 64 * 1024 * 1024;
/** Estimated bytes of an entry beyond its text: the map and list slots around it. */
const ENTRY_OVERHEAD_BYTES = 160;
/** Expired entries looked at, from the oldest, on each write. */
const SWEEP_PER_WRITE = 8;

/**
 * This process's own state: today's single-instance behaviour, behind the cluster interface.
 * Bounded in entries and bytes (the least recently written go first); TTLs follow `now`.
 * Values are held as their JSON text, so a caller never shares an object with the store.
 */
export class MemoryStore implements StateStore {
  readonly kind = 'memory';
  private readonly entries = new LruMap<string, Entry>();
  private readonly ns: { values: string; internal: string };
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private closed = false;

  constructor(options: MemoryStoreOptions) {
    this.ns = namespacesOf(options.keyPrefix ?? 'pbx:', options.configId);
    this.maxEntries = options.maxEntries ?? MEMORY_STORE_MAX_ENTRIES;
    this.maxBytes = options.maxBytes ?? MEMORY_STORE_MAX_BYTES;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.entries.totalWeight;
  }

  get isUp(): boolean {
    return !this.closed;
  }

  get lastError(): string | undefined {
    return this.closed ? 'closed' : undefined;
  }

  onHealth(_listener: HealthListener): () => void {
    return () => undefined;
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    return this.setIfAbsent(this.valueKey(key), '1', ttlOf(ttlMs));
  }

  async get<T>(key: string): Promise<T | undefined> {
    return decodeValue<T>(this.read(this.valueKey(key)));
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.write(this.valueKey(key), encodeValue(value), ttlOf(ttlMs));
  }

  async delete(key: string): Promise<void> {
    this.open();
    this.entries.delete(this.valueKey(key));
  }

  async update<T>(key: string, ttlMs: number, reduce: Reducer<T>, options: UpdateOptions = {}): Promise<T | undefined> {
    const ttl = ttlOf(ttlMs);
    const k = this.valueKey(key);
    if (options.fence && fenceOfLease(this.read(this.internalKey('lease', options.fence.lease))) !== options.fence.fence) {
      throw new StoreError('lease_lost', `the lease "${options.fence.lease}" is held under another fence`);
    }
    const next = reduce(decodeValue<T>(this.read(k)));
    if (next === undefined) this.entries.delete(k);
    else this.write(k, encodeValue(next), ttl);
    return next;
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    const ttl = ttlOf(ttlMs);
    const leaseKey = this.internalKey('lease', name);
    const current = this.read(leaseKey);
    if (current !== undefined) {
      const fence = fenceOfLease(current);
      if (fence === undefined || current !== leaseValue(fence, owner)) return null;
      this.write(leaseKey, current, ttl);
      return { fence };
    }
    const counterKey = this.internalKey('fence', name);
    const fence = Number(this.read(counterKey) ?? '0') + 1;
    this.write(counterKey, String(fence), FENCE_COUNTER_TTL_MS);
    this.write(leaseKey, leaseValue(fence, owner), ttl);
    return { fence };
  }

  async renewLease(name: string, owner: string, fence: number, ttlMs: number): Promise<boolean> {
    const ttl = ttlOf(ttlMs);
    const leaseKey = this.internalKey('lease', name);
    if (this.read(leaseKey) !== leaseValue(fence, owner)) return false;
    this.write(leaseKey, leaseValue(fence, owner), ttl);
    return true;
  }

  async releaseLease(name: string, owner: string, fence: number): Promise<void> {
    this.deleteIf(this.internalKey('lease', name), leaseValue(fence, owner));
  }

  async isCurrent(name: string, fence: number): Promise<boolean> {
    return fenceOfLease(this.read(this.internalKey('lease', name))) === fence;
  }

  // An index is kept as its JSON text `[[member, score], ...]` like any value: O(members) a change.
  async indexSet(key: string, member: string, score: number, ttlMs: number, max: number): Promise<void> {
    const k = this.valueKey(key);
    const members = this.readIndex(k).filter(([m]) => m !== member);
    members.push([member, score]);
    members.sort((a, b) => a[1] - b[1]);
    this.write(k, JSON.stringify(members.slice(Math.max(0, members.length - Math.max(1, max)))), ttlOf(ttlMs));
  }

  async indexRemove(key: string, member: string): Promise<void> {
    const k = this.valueKey(key);
    const entry = this.entries.get(k);
    const members = this.readIndex(k);
    const kept = members.filter(([m]) => m !== member);
    if (entry && kept.length !== members.length) this.write(k, JSON.stringify(kept), Math.max(1, entry.expiresAt - this.now()));
  }

  async indexRange(key: string, maxScore: number, limit: number): Promise<string[]> {
    return this.readIndex(this.valueKey(key))
      .filter(([, score]) => score <= maxScore)
      .slice(0, Math.max(0, limit))
      .map(([m]) => m);
  }

  private readIndex(k: string): Array<[string, number]> {
    const text = this.read(k);
    if (text === undefined) return [];
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as Array<[string, number]>) : [];
  }

  async withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>, options: LockOptions): Promise<LockResult<T>> {
    const lockKey = this.internalKey('lock', name);
    const ttl = ttlOf(ttlMs);
    return runWithLock(
      {
        tryLock: async (_n, token) => this.setIfAbsent(lockKey, token, ttl),
        unlock: async (_n, token) => this.deleteIf(lockKey, token),
        isLocked: async () => this.read(lockKey) !== undefined,
      },
      name,
      ttl,
      fn,
      options.waitMs,
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.entries.clear();
  }

  private valueKey(key: string): string {
    return keyOf(this.ns.values, key);
  }

  private internalKey(kind: 'lease' | 'fence' | 'lock', name: string): string {
    return keyOf(`${this.ns.internal}${kind}:`, name);
  }

  private open(): void {
    if (this.closed) throw new StoreUnavailableError('the state store is closed');
  }

  /** The live text at `key`; an expired entry is dropped. */
  private read(key: string): string | undefined {
    this.open();
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.text;
  }

  private setIfAbsent(key: string, text: string, ttl: number): boolean {
    if (this.read(key) !== undefined) return false;
    this.write(key, text, ttl);
    return true;
  }

  private deleteIf(key: string, text: string): void {
    if (this.read(key) === text) this.entries.delete(key);
  }

  private write(key: string, text: string, ttl: number): void {
    this.open();
    const t = this.now();
    this.entries.set(key, { text, expiresAt: t + ttl }, (key.length + text.length) * 2 + ENTRY_OVERHEAD_BYTES);
    for (let i = 0; i < SWEEP_PER_WRITE; i++) {
      const oldest = this.entries.oldest();
      if (!oldest || oldest.key === key || oldest.value.expiresAt > t) break;
      this.entries.delete(oldest.key);
    }
    while (this.entries.size > this.maxEntries || this.entries.totalWeight > this.maxBytes) {
      const oldest = this.entries.oldest();
      if (!oldest || oldest.key === key) break;
      this.entries.delete(oldest.key);
    }
  }
}

/**
 * Shared state for cluster mode (SPEC section 8): one small interface, an in-process
 * implementation (one instance, the default) and a Redis one (several instances).
 *
 * Keys are given without prefix; a store puts every key under `{keyPrefix}{configId}:`. Every
 * key has a TTL. Values are JSON.
 */

/** A lease holder's proof: the fencing number that grows with every new holder. */
export interface Lease {
  fence: number;
}

/**
 * What `withLock` did: `ran` (this caller held the lock and ran `fn`), `released` (another holder
 * finished within `waitMs`: read what it stored), `timeout` (it did not: fall back to your own).
 */
export type LockResult<T> = { status: 'ran'; value: T } | { status: 'released' } | { status: 'timeout' };

export interface LockOptions {
  /** How long a caller that did not get the lock waits for its holder to finish. */
  waitMs: number;
}

/** Makes `update` write only while the named lease is still held under `fence`. */
export interface FenceCheck {
  lease: string;
  fence: number;
}

export interface UpdateOptions {
  fence?: FenceCheck;
}

/**
 * The new value from the current one (undefined: there is none); undefined deletes. Must be pure:
 * the Redis store calls it again when another writer changed the value in between.
 */
export type Reducer<T> = (current: T | undefined) => T | undefined;

export interface ClaimOptions {
  /**
   * When the claim fails (store unavailable), it may still have reached Redis after its deadline:
   * undo it once Redis answers again. For callers that answered "try later" and emitted nothing.
   */
  undoIfUnsure?: boolean;
}

export type HealthListener = (up: boolean) => void;

/**
 * Every method rejects with `StoreUnavailableError` (code `store_unavailable`) when the store
 * cannot answer within its deadline, is down or closed: callers then apply `redisDown`.
 */
export interface StateStore {
  /** `memory` (this process only) or `redis` (shared by every instance). */
  readonly kind: 'memory' | 'redis';
  /** True for the first caller only, until the key expires: exactly-once across instances. */
  claim(key: string, ttlMs: number, options?: ClaimOptions): Promise<boolean>;
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Atomic read-modify-write; resolves with the value written (undefined: deleted or none). */
  update<T>(key: string, ttlMs: number, reduce: Reducer<T>, options?: UpdateOptions): Promise<T | undefined>;
  /** The lease for `owner` (a new fence, or its own current one), or null while another holds it. */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Extends the lease; false when it is no longer `owner`'s under `fence`. */
  renewLease(name: string, owner: string, fence: number, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, owner: string, fence: number): Promise<void>;
  /** True while the lease is held under `fence`. */
  isCurrent(name: string, fence: number): Promise<boolean>;
  /**
   * Sorted index `key` (a Redis sorted set): sets `member`'s score, keeps the `max` highest
   * scores (the lowest go first), and makes the index expire `ttlMs` after this write.
   */
  indexSet(key: string, member: string, score: number, ttlMs: number, max: number): Promise<void>;
  indexRemove(key: string, member: string): Promise<void>;
  /** Members of index `key` with a score of at most `maxScore`, lowest first, at most `limit`. */
  indexRange(key: string, maxScore: number, limit: number): Promise<string[]>;
  /** A short lock: the winner runs `fn`, the others wait up to `waitMs` for it to finish. */
  withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>, options: LockOptions): Promise<LockResult<T>>;
  readonly isUp: boolean;
  /** Why the store is down (no credential in it), while it is. */
  readonly lastError: string | undefined;
  /** Called on every down/up transition; returns the unsubscribe function. */
  onHealth(listener: HealthListener): () => void;
  close(): Promise<void>;
}

import { MemoryStore } from './memory-store';
import { RedisStore } from './redis-store';
import type { StateStore } from './types';

export * from './types';
export { StoreError, StoreUnavailableError, isStoreError, type StoreErrorCode } from './errors';
export { MemoryStore, type MemoryStoreOptions } from './memory-store';
export { RedisStore, REDIS_COMMAND_TIMEOUT_MS, type RedisStoreOptions } from './redis-store';
export { Sealer } from './sealed';

export interface StateStoreOptions {
  /** Empty: this instance's own memory (one instance); set: Redis, shared by every instance. */
  redisUrl?: string;
  password?: string;
  keyPrefix?: string;
  /** The config node's id: the same on every instance. */
  configId: string;
  commandTimeoutMs?: number;
}

export const DEFAULT_KEY_PREFIX = 'pbx:';

export function createStateStore(options: StateStoreOptions): StateStore {
  const keyPrefix = options.keyPrefix || DEFAULT_KEY_PREFIX;
  const redisUrl = options.redisUrl?.trim();
  if (!redisUrl) return new MemoryStore({ keyPrefix, configId: options.configId });
  return new RedisStore({
    url: redisUrl,
    password: options.password || undefined,
    keyPrefix,
    configId: options.configId,
    commandTimeoutMs: options.commandTimeoutMs,
  });
}

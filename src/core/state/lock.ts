import { randomToken, sleep } from './encoding';
import type { LockResult } from './types';

/** What a store gives `runWithLock`: the lock key's set-if-absent, compare-and-delete and existence. */
export interface LockPrimitives {
  tryLock(name: string, token: string, ttlMs: number): Promise<boolean>;
  unlock(name: string, token: string): Promise<void>;
  isLocked(name: string): Promise<boolean>;
}

/** How often a waiting caller looks whether the holder has finished. */
export const LOCK_POLL_MS = 25;

export async function runWithLock<T>(
  primitives: LockPrimitives,
  name: string,
  ttlMs: number,
  fn: () => Promise<T>,
  waitMs: number,
): Promise<LockResult<T>> {
  const token = randomToken();
  if (await primitives.tryLock(name, token, ttlMs)) {
    try {
      return { status: 'ran', value: await fn() };
    } finally {
      // An unlock that fails leaves the lock to expire with its TTL.
      await primitives.unlock(name, token).catch(() => undefined);
    }
  }
  const until = Date.now() + Math.max(0, waitMs);
  for (let left = until - Date.now(); left > 0; left = until - Date.now()) {
    await sleep(Math.min(LOCK_POLL_MS, left));
    if (!(await primitives.isLocked(name))) return { status: 'released' };
  }
  return { status: 'timeout' };
}

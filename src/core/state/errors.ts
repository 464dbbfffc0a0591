/**
 * `store_unavailable`: the store did not answer within its deadline, is disconnected, refused the
 * password or was closed; the caller falls back (SPEC section 8, `redisDown`).
 * `store_conflict`: `update` lost the race to other writers too many times in a row.
 * `lease_lost`: a fenced `update` whose lease another holder has taken over.
 */
export type StoreErrorCode = 'store_unavailable' | 'store_conflict' | 'lease_lost';

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}

export class StoreUnavailableError extends StoreError {
  constructor(message: string) {
    super('store_unavailable', message);
    this.name = 'StoreUnavailableError';
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}

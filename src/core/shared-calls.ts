import { createHash } from 'node:crypto';
import { reduceCall, type CallState, type CallTracker } from './call-tracker';
import type { RedisDownMode } from './cluster-settings';
import type { DuplicateFilter } from './duplicate-filter';
import { limitEvent } from './event-limits';
import { isStoreError } from './state/errors';
import type { StateStore } from './state/types';
import type { CallEvent } from './types';

/** Same window as the in-process duplicate filter (SPEC section 5: 10 minutes). */
export const SHARED_DUPLICATE_WINDOW_MS = 10 * 60 * 1000;
/**
 * Under `redisDown: reject`, a delivery's claim is pending until its events are in the shared
 * state, then marked taken for the whole window. A claim left pending (its instance failed, or
 * its outcome was unknown and it is being undone) ends after this: retries meanwhile get 503.
 */
export const SHARED_PENDING_CLAIM_MS = 60 * 1000;
/** The value of a claim whose delivery was taken (a pending claim holds the claimer's token). */
const TAKEN = 'taken';
/** A call's shared state expires this long after its last event, as the in-process tracker's TTL. */
export const SHARED_CALL_TTL_MS = 6 * 60 * 60 * 1000;
/**
 * Deliveries waiting for the shared store on one instance. Redis answers in well under a
 * millisecond, and a store that stops answering is cut off by its command deadline, so the line
 * only grows this long when something is badly wrong: the webhook is then answered 503.
 */
export const MAX_WAITING_DELIVERIES = 5000;

export interface SharedCallsOptions {
  store: StateStore;
  redisDown: RedisDownMode;
  /** This instance's own state: the fallback while the store is unavailable (`redisDown: local`). */
  local: { duplicates: DuplicateFilter; tracker: CallTracker };
  now?: () => number;
}

/**
 * The cluster half of the webhook pipeline (SPEC section 8): which delivery is new, and each
 * call's state, kept in the shared store, so that of several instances exactly one emits each
 * delivery and every summary sees the legs the others saw. Deliveries are taken one after the
 * other, in arrival order. When the store fails, this instance goes on with its own duplicate
 * filter and tracker (`local`), which follow the shared state while it works.
 */
export class SharedCalls {
  private readonly store: StateStore;
  private readonly now: () => number;
  private line: Promise<void> = Promise.resolve();
  private waiting = 0;
  /** Deliveries done with the instance's own state because the store failed them. */
  fallbacks = 0;

  constructor(private readonly options: SharedCallsOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
  }

  /** Whether a delivery must be answered 503 now: Redis down under `reject`, or the line full. */
  get refusing(): boolean {
    return (this.options.redisDown === 'reject' && !this.store.isUp) || this.waiting >= MAX_WAITING_DELIVERIES;
  }

  /** Runs `work` after every delivery taken before it; never rejects (failures are `onError`'s). */
  enqueue(work: () => Promise<void>, onError: (err: unknown) => void): void {
    this.waiting++;
    this.line = this.line
      .then(work)
      .catch(onError)
      .finally(() => {
        this.waiting--;
      });
  }

  /** Resolves when every delivery taken so far is done: for tests and shutdown. */
  settled(): Promise<void> {
    return this.line;
  }

  /**
   * A delivery's events through the shared store: `duplicate` when this or another instance took
   * it within the window; `refused` when Redis is down under `redisDown: reject` (then nothing is
   * kept: the PBX's retry is taken as new); else, per event, what to emit (undefined: dropped by
   * the tracker; an Error: tracking failed). Under `local` a failing store is replaced by this
   * instance's own duplicate filter and tracker.
   */
  async take(fingerprint: string, events: CallEvent[]): Promise<'duplicate' | 'refused' | Array<CallEvent | undefined | Error>> {
    const reject = this.options.redisDown === 'reject';
    const seenKey = `seen:${digestOf(fingerprint)}`;
    // Recorded here too, so the window holds should the store fail later.
    const seenHere = this.options.local.duplicates.isDuplicate(fingerprint);
    let duplicate: boolean;
    try {
      duplicate = !(await this.store.claim(seenKey, reject ? SHARED_PENDING_CLAIM_MS : SHARED_DUPLICATE_WINDOW_MS, {
        undoIfUnsure: reject,
      }));
      // Under reject, a claim still pending may be one whose instance answered 503 and undoes it
      // (Redis took the claim after its deadline): 200 now could lose the delivery, 503 cannot.
      if (duplicate && reject && (await this.store.get(seenKey)) !== TAKEN) return 'refused';
    } catch (err) {
      if (!isStoreError(err)) throw err;
      this.fallbacks++;
      if (reject) return 'refused';
      duplicate = seenHere;
    }
    if (duplicate) return 'duplicate';
    const out: Array<CallEvent | undefined | Error> = [];
    for (const event of events) {
      try {
        out.push(await this.apply(event, reject));
      } catch (err) {
        if (reject && isStoreError(err)) {
          // Nothing emitted: let the PBX's retry be taken as new.
          await this.store.delete(seenKey).catch(() => undefined);
          return 'refused';
        }
        out.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (reject) {
      try {
        await this.store.set(seenKey, TAKEN, SHARED_DUPLICATE_WINDOW_MS);
      } catch (err) {
        if (!isStoreError(err)) throw err;
        // Left pending, it expires and the PBX's retry is taken then.
        return 'refused';
      }
    }
    return out;
  }

  /**
   * The event to emit, from the call's shared state; undefined when the call tracker drops it
   * (see `applyCallEvent`). When the store fails: this instance's own tracker, or under `reject`
   * the store's error.
   */
  private async apply(input: CallEvent, reject: boolean): Promise<CallEvent | undefined> {
    const event = limitEvent(input);
    let out: CallEvent | undefined;
    let state: CallState | undefined;
    try {
      state = await this.store.update<CallState>(`call:${event.callId}`, SHARED_CALL_TTL_MS, (current) => {
        const next = reduceCall(current, event, this.now());
        out = next.event;
        return next.state;
      });
    } catch (err) {
      if (!isStoreError(err) || reject) throw err;
      this.fallbacks++;
      return this.options.local.tracker.apply(event);
    }
    if (!state) throw new Error('the shared store wrote no call state');
    this.options.local.tracker.remember(state);
    return out;
  }
}

function digestOf(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('base64url');
}

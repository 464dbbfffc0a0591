import { createHash } from 'node:crypto';
import { closeCallState, reduceCall, type CallState, type CallTracker, type SyntheticClose } from './call-tracker';
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

/** The shared index of open calls (score: when the call opened, or last looked at), for closing stale calls. */
const OPEN_CALLS = 'open-calls';
/** Open calls the shared index holds at most; past it the longest-indexed are dropped from it. */
export const MAX_INDEXED_OPEN_CALLS = 50_000;

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
 * delivery and every summary sees the legs the others saw. Deliveries of one call are taken one
 * after the other, in arrival order; deliveries of different calls at once, so that their Redis
 * commands share round trips (with one line for the whole instance, each delivery waited for the
 * three round trips of every delivery before it). When the store fails, this instance goes on
 * with its own duplicate filter and tracker (`local`), which follow the shared state while it works.
 */
export class SharedCalls {
  private readonly store: StateStore;
  private readonly now: () => number;
  /** The last delivery taken of each call (by call id) with deliveries still under way. */
  private readonly lines = new Map<string, Promise<void>>();
  private waiting = 0;
  /** Deliveries done with the instance's own state because the store failed them. */
  fallbacks = 0;
  /** Changes of the open-calls index that failed (see `indexOpenCall`). */
  indexFailures = 0;

  constructor(private readonly options: SharedCallsOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
  }

  /** Whether a delivery must be answered 503 now: Redis down under `reject`, or the line full. */
  get refusing(): boolean {
    return (this.options.redisDown === 'reject' && !this.store.isUp) || this.waiting >= MAX_WAITING_DELIVERIES;
  }

  /**
   * Runs `work` after every delivery taken before it for any of `callIds` (the calls its events
   * belong to); never rejects (failures are `onError`'s).
   */
  enqueue(callIds: readonly string[], work: () => Promise<void>, onError: (err: unknown) => void): void {
    this.waiting++;
    const keys = [...new Set(callIds)];
    const before = keys.map((k) => this.lines.get(k)).filter((p): p is Promise<void> => p !== undefined);
    const turn = before.length === 0 ? Promise.resolve() : before.length === 1 ? before[0] : Promise.all(before);
    const done = turn
      .then(work)
      .catch(onError)
      .finally(() => {
        this.waiting--;
        for (const k of keys) if (this.lines.get(k) === done) this.lines.delete(k);
      });
    for (const k of keys) this.lines.set(k, done);
  }

  /** Resolves when every delivery taken so far is done: for tests and shutdown. */
  async settled(): Promise<void> {
    // The last delivery of each call comes after every earlier one of that call.
    await Promise.all([...this.lines.values()]);
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
    let wasOpen = false;
    try {
      state = await this.store.update<CallState>(`call:${event.callId}`, SHARED_CALL_TTL_MS, (current) => {
        wasOpen = current !== undefined && !current.ended;
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
    // Before the tracker takes the state (it sets its own `touchedAt`).
    await this.indexOpenCall(state, wasOpen);
    this.options.local.tracker.remember(state);
    return out;
  }

  /**
   * Keeps the shared index of open calls: a call is added when it opens and removed when it
   * ends. A failure is only counted: the index is a hint that the sweep checks against each
   * call's state, and an entry left behind is removed by the sweep.
   */
  private async indexOpenCall(state: CallState, wasOpen: boolean): Promise<void> {
    const id = state.summary.callId;
    try {
      if (!state.ended && !wasOpen) await this.store.indexSet(OPEN_CALLS, id, state.touchedAt, SHARED_CALL_TTL_MS, MAX_INDEXED_OPEN_CALLS);
      else if (state.ended && wasOpen) await this.store.indexRemove(OPEN_CALLS, id);
    } catch (err) {
      if (!isStoreError(err)) throw err;
      this.indexFailures++;
    }
  }

  /** Open calls in the shared index, at most `max` (some may have ended: `close` tells). */
  async openCalls(max: number): Promise<string[]> {
    return this.store.indexRange(OPEN_CALLS, Infinity, max);
  }

  /**
   * Open calls with no event for `idleMs`, at most `max`, from the shared index: each is checked
   * against its state; one that ended or expired leaves the index, one still active gets its
   * last event time as its score (so the oldest entries are the candidates next time).
   */
  /** Whether the shared state has call `callId` ended; false while open or not known. */
  async hasEnded(callId: string): Promise<boolean> {
    return (await this.store.get<CallState>(`call:${callId}`))?.ended === true;
  }

  async idleCalls(idleMs: number, max: number): Promise<string[]> {
    const t = this.now();
    const out: string[] = [];
    for (const id of await this.store.indexRange(OPEN_CALLS, t - idleMs, max)) {
      const state = await this.store.get<CallState>(`call:${id}`);
      if (!state || state.ended) await this.store.indexRemove(OPEN_CALLS, id);
      else if (t - state.touchedAt >= idleMs) out.push(id);
      else await this.store.indexSet(OPEN_CALLS, id, state.touchedAt, SHARED_CALL_TTL_MS, MAX_INDEXED_OPEN_CALLS);
    }
    return out;
  }

  /**
   * Closes call `callId` in the shared state with a synthetic hangup, atomically: only while it
   * is open and had no event after `quietSince` (ms), so a real event that races the close wins
   * and the close is written, and returned for emitting, by one instance only. Undefined when
   * the call ended, changed or is gone.
   */
  async close(callId: string, reason: SyntheticClose, provider: CallEvent['provider'], quietSince: number): Promise<CallEvent | undefined> {
    let event: CallEvent | undefined;
    const state = await this.store.update<CallState>(`call:${callId}`, SHARED_CALL_TTL_MS, (current) => {
      event = undefined;
      if (!current || current.ended || current.touchedAt > quietSince) return current;
      const next = structuredClone(current);
      event = closeCallState(next, reason, provider, new Date(this.now()).toISOString());
      return next;
    });
    if (!state || state.ended) await this.store.indexRemove(OPEN_CALLS, callId).catch(() => undefined);
    if (state) this.options.local.tracker.remember(state);
    return event;
  }
}

function digestOf(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('base64url');
}

import type { SyntheticClose } from './call-tracker';
import { rateLimited } from './rate-limit';
import type { Logger } from './types';

/** SPEC section 9 defaults: a call with no event for 4 hours is closed as stale. */
export const DEFAULT_STALE_AFTER_SECONDS = 14400;
/** How often open calls are compared with the PBX's active calls. */
export const RECONCILE_EVERY_MS = 60_000;
/** How long a call the PBX listed before must be missing from its active calls to be closed. */
export const RECONCILE_GRACE_MS = 30_000;
/** Calls one sweep or one check closes at most; the rest are closed by the next ones. */
export const MAX_CLOSES_PER_SWEEP = 500;
/** Open calls one check compares with the PBX's list; bounds its memory of which calls were listed. */
export const MAX_RECONCILED_CALLS = 10_000;
/** Stale sweeps run at a quarter of `staleAfter`, within these bounds. */
const MIN_SWEEP_MS = 250;
const MAX_SWEEP_MS = 60_000;

/** What the closer needs of an account (see Account): its open calls, how to close one, the PBX's list. */
export interface ClosableCalls {
  /** Open calls with no event for `idleMs`, at most `max`. */
  idleCalls(idleMs: number, max: number): Promise<string[]>;
  /** Open calls, at most `max`. */
  openCalls(max: number): Promise<string[]>;
  /**
   * Closes the call with a synthetic hangup emitted once; false when it had ended meanwhile or
   * had an event after `quietSince` (ms): a real event racing the close wins.
   */
  closeCall(callId: string, reason: SyntheticClose, quietSince: number): Promise<boolean>;
  /** Whether this instance closes calls now (in cluster mode: holds the lease, taken or renewed for `ttlMs`). */
  holdsCloserLease(ttlMs: number): Promise<boolean>;
  /**
   * Ids of the calls the PBX lists as active, in the events' `callId` terms; undefined when the
   * provider has no such list or its ids cannot be matched with the events' (no reconciling).
   */
  activeCallIds(): Promise<Set<string> | undefined>;
  /** Whether the provider can be reconciled at all (has `active-calls` with matchable ids). */
  readonly canReconcile: boolean;
}

export interface CallCloserOptions {
  /** Seconds without an event after which an open call is closed as stale; 0 = never. */
  staleAfterSeconds: number;
  /** Compare open calls with the PBX's active calls (where the provider allows it). */
  reconcile: boolean;
  /** Period of the comparison (tests shorten it); the grace is min(30 s, half of it). */
  reconcileEveryMs?: number;
  log: Logger;
  now?: () => number;
}

/**
 * Closes calls whose hangup never came (SPEC section 9): stale ones (no event for `staleAfter`)
 * and, with `reconcile`, those the PBX listed as active and then no longer lists for the grace
 * period. Only a call the PBX has listed at least once is reconciled: a call its list never
 * covers (another extension's, or an id the list does not share) is left to `staleAfter`.
 */
export class CallCloser {
  private readonly calls: ClosableCalls;
  private readonly options: CallCloserOptions;
  private readonly now: () => number;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly graceMs: number;
  /** Open calls the PBX has listed. */
  private readonly listed = new Set<string>();
  /** Listed calls missing from the PBX's list since (ms). */
  private readonly missingSince = new Map<string, number>();
  private sweeping = false;
  private checking = false;
  private stopped = false;
  /** A failing sweep or check (the store down, say) is told, but not once a period. */
  private readonly warn: (message: string) => void;
  /** Checks and closes done, for status and tests. */
  readonly counters = { sweeps: 0, checks: 0, stale: 0, reconciled: 0, failedChecks: 0 };

  constructor(calls: ClosableCalls, options: CallCloserOptions) {
    this.calls = calls;
    this.options = options;
    this.now = options.now ?? Date.now;
    this.warn = rateLimited((m) => options.log.warn(m));
    this.graceMs = Math.min(RECONCILE_GRACE_MS, this.reconcileEveryMs / 2);
  }

  private get reconcileEveryMs(): number {
    return this.options.reconcileEveryMs ?? RECONCILE_EVERY_MS;
  }

  /**
   * The closer lease (cluster mode) lasts three of the longest period, so another instance takes
   * over within that when this one stops.
   */
  private get leaseMs(): number {
    const sweepMs = this.staleAfterMs > 0 ? this.sweepEveryMs : 0;
    return 3 * Math.max(sweepMs, this.reconciles ? this.reconcileEveryMs : 0, MIN_SWEEP_MS);
  }

  private get sweepEveryMs(): number {
    return Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, this.staleAfterMs / 4));
  }

  get staleAfterMs(): number {
    return this.options.staleAfterSeconds * 1000;
  }

  /** Whether this closer compares calls with the PBX at all. */
  get reconciles(): boolean {
    return this.options.reconcile && this.calls.canReconcile;
  }

  /** Starts the timers (none when neither staleness nor reconciling applies). */
  start(): void {
    if (this.staleAfterMs > 0) {
      this.timers.push(setInterval(() => void this.sweep(), this.sweepEveryMs).unref());
    }
    if (this.reconciles) this.timers.push(setInterval(() => void this.check(), this.reconcileEveryMs).unref());
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
  }

  /** Closes open calls with no event for `staleAfter` (none when it is 0). Never rejects. */
  async sweep(): Promise<number> {
    if (this.staleAfterMs <= 0 || this.sweeping || this.stopped) return 0;
    this.sweeping = true;
    let closed = 0;
    try {
      if (!(await this.calls.holdsCloserLease(this.leaseMs))) return 0;
      this.counters.sweeps++;
      for (const id of await this.calls.idleCalls(this.staleAfterMs, MAX_CLOSES_PER_SWEEP)) {
        if (this.stopped) break;
        if (await this.calls.closeCall(id, 'stale', this.now() - this.staleAfterMs)) {
          closed++;
          this.counters.stale++;
          this.log(`call ${id} closed as stale: no event for ${this.options.staleAfterSeconds} s`);
        }
      }
    } catch (err) {
      this.warn(`stale call sweep failed: ${describe(err)}`);
    } finally {
      this.sweeping = false;
    }
    return closed;
  }

  /**
   * Compares the open calls with the PBX's active calls once (nothing when no call is open) and
   * closes those listed before and missing for the grace period. A failed request closes nothing.
   * Never rejects.
   */
  async check(): Promise<number> {
    if (!this.reconciles || this.checking || this.stopped) return 0;
    this.checking = true;
    let closed = 0;
    try {
      if (!(await this.calls.holdsCloserLease(this.leaseMs))) return 0;
      const open = await this.calls.openCalls(MAX_RECONCILED_CALLS);
      this.forgetAllBut(new Set(open));
      if (open.length === 0) return 0;
      this.counters.checks++;
      // A call with an event after this is alive, whatever the list says.
      const askedAt = this.now();
      let active: Set<string> | undefined;
      try {
        active = await this.calls.activeCallIds();
      } catch (err) {
        this.counters.failedChecks++;
        this.log(`active calls not read, nothing reconciled this time: ${describe(err)}`);
        return 0;
      }
      if (!active) return 0;
      const t = this.now();
      for (const id of open) {
        if (active.has(id)) {
          this.listed.add(id);
          this.missingSince.delete(id);
          continue;
        }
        if (!this.listed.has(id)) continue;
        const since = this.missingSince.get(id) ?? t;
        this.missingSince.set(id, since);
        if (t - since < this.graceMs || closed >= MAX_CLOSES_PER_SWEEP || this.stopped) continue;
        this.forget(id);
        if (await this.calls.closeCall(id, 'reconciled', askedAt)) {
          closed++;
          this.counters.reconciled++;
          this.log(`call ${id} closed: the PBX no longer lists it`);
        }
      }
    } catch (err) {
      this.warn(`call reconciliation failed: ${describe(err)}`);
    } finally {
      this.checking = false;
    }
    return closed;
  }

  private forget(id: string): void {
    this.listed.delete(id);
    this.missingSince.delete(id);
  }

  /** Keeps what is known of the calls still open only. */
  private forgetAllBut(open: Set<string>): void {
    for (const id of this.listed) if (!open.has(id)) this.forget(id);
  }

  private log(message: string): void {
    this.options.log.debug(message);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

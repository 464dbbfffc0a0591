import { isStoreError } from '../core/state/errors';
import type { StateStore } from '../core/state/types';
import type { ExtensionState, ExtensionStateName } from '../core/types';

export interface PresenceChange {
  extension: string;
  state: ExtensionStateName;
  /** The state seen by the poll before; null for an extension that just appeared. */
  previous: ExtensionStateName | null;
}

/** Cluster mode: one instance polls (it holds the lease), the states seen last are shared. */
export interface SharedWatchOptions {
  store: StateStore;
  /** The watch node's id: the same on every instance. */
  name: string;
  /** This instance. */
  owner: string;
}

export type PollOutcome =
  | { ok: true; count: number }
  | { ok: false; error: unknown; retryInMs: number }
  /** Another instance holds the lease and polls. */
  | { ok: true; standby: true };

export interface PresenceWatchOptions {
  intervalMs: number;
  /** Longest wait between polls while the provider keeps failing. */
  maxBackoffMs?: number;
  poll(): Promise<ExtensionState[]>;
  onChange(change: PresenceChange): void;
  onPoll(outcome: PollOutcome): void;
  shared?: SharedWatchOptions;
}

/** The states seen last, as stored: `[extension, state]` pairs (plain JSON, any extension name). */
type StoredStates = Array<[string, ExtensionStateName]>;

/**
 * Polls presence (no provider pushes it) and reports only what changed. The first poll is the
 * baseline and reports nothing. Failures back off exponentially; `stop` ends it for good.
 *
 * With `shared` (cluster mode, SPEC section 8), only the instance holding the lease polls; it
 * compares with the states stored by whoever polled last and stores the new ones under its
 * fencing number, so a holder that was paused and lost the lease cannot report. The lease lasts
 * two intervals and is renewed before each poll (and while one is under way): another instance
 * takes over within three.
 * Should the store fail, the instance polls on its own, as a single instance does, comparing with
 * its own last poll (an instance that stood by has none: its first poll on its own is a baseline).
 */
export class PresenceWatch {
  /** The states this instance saw last; in cluster mode only while it polls (leader or on its own). */
  private last: Map<string, ExtensionStateName> | null = null;
  /** Cluster mode: this instance polled on its own (store failing) since it last stored the states. */
  private aheadOfStore = false;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;
  /** The fencing number of the lease this instance holds, in cluster mode. */
  private fence?: number;
  /** Renews the lease while a poll is under way. */
  private leaseKeeper?: NodeJS.Timeout;

  constructor(private readonly options: PresenceWatchOptions) {}

  start(): void {
    this.schedule(0);
  }

  /** Ends it; in cluster mode resolves once the lease is released (never rejects). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stopKeepingLease();
    await this.release();
  }

  /** Polls once now (when this instance is the one to poll); resolves when its reports are done. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    const leads = await this.leads();
    if (this.stopped) return;
    if (!leads) return this.standBy();
    this.keepLease();
    try {
      await this.pollAndReport();
    } finally {
      this.stopKeepingLease();
    }
  }

  private async pollAndReport(): Promise<void> {
    let states: ExtensionState[];
    try {
      states = await this.options.poll();
    } catch (error) {
      if (this.stopped) return;
      this.failures++;
      const retryInMs = this.delay();
      this.options.onPoll({ ok: false, error, retryInMs });
      this.schedule(retryInMs);
      return;
    }
    if (this.stopped) return;
    this.failures = 0;
    const next = new Map(states.map((s) => [s.extension, s.state]));
    const changes = await this.changesTo(next);
    if (changes === null) return this.stopped ? undefined : this.standBy();
    // Reported even when stopped meanwhile: they are stored now, so no other instance will.
    for (const change of changes) this.options.onChange(change);
    if (this.stopped) return;
    this.options.onPoll({ ok: true, count: next.size });
    this.schedule(this.options.intervalMs);
  }

  /**
   * While this instance polls and stores, its lease is renewed every half interval, so a poll
   * slower than the lease (a slow PBX, retries) does not let another instance poll as well. A
   * paused process renews nothing: its lease runs out and the fence stops its late write.
   */
  private keepLease(): void {
    const { shared } = this.options;
    const fence = this.fence;
    if (!shared || fence === undefined) return;
    const name = this.leaseName(shared);
    this.stopKeepingLease();
    const timer = setInterval(() => {
      shared.store.renewLease(name, shared.owner, fence, this.leaseMs()).then(
        (held) => {
          if (!held) clearInterval(timer);
        },
        () => undefined,
      );
    }, this.options.intervalMs / 2);
    this.leaseKeeper = timer;
  }

  private stopKeepingLease(): void {
    clearInterval(this.leaseKeeper);
    this.leaseKeeper = undefined;
  }

  private leaseMs(): number {
    return 2 * this.options.intervalMs;
  }

  /** Another instance polls: what this one saw last goes out of date. */
  private standBy(): void {
    this.last = null;
    this.aheadOfStore = false;
    this.options.onPoll({ ok: true, standby: true });
    this.schedule(this.options.intervalMs);
  }

  /** Whether this instance polls now: always, except in cluster mode without the lease. */
  private async leads(): Promise<boolean> {
    const { shared } = this.options;
    if (!shared) return true;
    const name = this.leaseName(shared);
    const ttl = this.leaseMs();
    try {
      if (this.fence !== undefined && (await shared.store.renewLease(name, shared.owner, this.fence, ttl))) return true;
      const lease = await shared.store.acquireLease(name, shared.owner, ttl);
      this.fence = lease?.fence;
      // Stopped while acquiring: stop() found no lease to release.
      if (this.stopped) await this.release();
      return lease !== null;
    } catch (err) {
      if (!isStoreError(err)) throw err;
      this.fence = undefined;
      return true;
    }
  }

  /**
   * What changed since the states seen last: by whichever instance polled last, in cluster mode;
   * null when this instance lost the lease before it could store them (another one polls now).
   */
  private async changesTo(next: Map<string, ExtensionStateName>): Promise<PresenceChange[] | null> {
    const { shared } = this.options;
    const fence = this.fence;
    if (shared && fence !== undefined) {
      // After polling on its own, this instance reported from its own last poll: it goes on from
      // there, not from the states stored before (those changes are reported already).
      const own = this.aheadOfStore ? this.last : null;
      let changes: PresenceChange[] = [];
      try {
        await shared.store.update<StoredStates>(
          `watch:${shared.name}:states`,
          Math.max(60 * 60 * 1000, 10 * this.options.intervalMs),
          (stored) => {
            // Nothing stored (first poll, or a Redis that restarted empty): from this instance's own last poll, if any.
            const before = own ?? (Array.isArray(stored) ? new Map(stored) : this.last);
            changes = before ? changesBetween(before, next) : [];
            return [...next];
          },
          { fence: { lease: this.leaseName(shared), fence } },
        );
        this.last = next;
        this.aheadOfStore = false;
        return changes;
      } catch (err) {
        if (isStoreError(err, 'lease_lost')) {
          this.fence = undefined;
          return null;
        }
        if (!isStoreError(err)) throw err;
      }
    }
    const changes = this.last ? changesBetween(this.last, next) : [];
    this.last = next;
    if (shared) this.aheadOfStore = true;
    return changes;
  }

  /** Lets another instance take over at once, not when the lease runs out. */
  private async release(): Promise<void> {
    const { shared } = this.options;
    const fence = this.fence;
    if (!shared || fence === undefined) return;
    this.fence = undefined;
    await shared.store.releaseLease(this.leaseName(shared), shared.owner, fence).catch(() => undefined);
  }

  private leaseName(shared: SharedWatchOptions): string {
    return `watch:${shared.name}`;
  }

  private delay(): number {
    const max = this.options.maxBackoffMs ?? 5 * 60 * 1000;
    return Math.min(max, this.options.intervalMs * 2 ** Math.min(this.failures, 10));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick().catch(() => this.schedule(this.options.intervalMs)), ms);
  }
}

function changesBetween(before: Map<string, ExtensionStateName>, after: Map<string, ExtensionStateName>): PresenceChange[] {
  const changes: PresenceChange[] = [];
  for (const [extension, state] of after) {
    const previous = before.get(extension);
    if (previous !== state) changes.push({ extension, state, previous: previous ?? null });
  }
  return changes;
}

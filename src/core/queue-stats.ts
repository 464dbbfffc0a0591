import { isFinalHangup } from './call-tracker';
import type { StateStore } from './state';
import type { CallEvent } from './types';

/** SPEC section 10 defaults and the bounds the dialog allows. */
export const DEFAULT_WINDOW_MINUTES = 15;
/** Decimals are allowed: 0.5 is a 30-second window. */
export const MIN_WINDOW_MINUTES = 0.1;
export const MAX_WINDOW_MINUTES = 1440;
export const DEFAULT_SERVICE_LEVEL_SECONDS = 20;
export const MAX_SERVICE_LEVEL_SECONDS = 3600;
export const DEFAULT_INTERVAL_SECONDS = 10;
export const MAX_INTERVAL_SECONDS = 3600;
/** Queues followed at once (named or seen); further queues seen in events are not counted. */
export const MAX_QUEUES = 200;
/** Calls counted as waiting in one queue at once. */
export const MAX_WAITING_PER_QUEUE = 1000;
/**
 * Counters are kept per second of entry, grouped in slots (one store key each): a minute for
 * windows up to an hour (each change rewrites at most 60 rows), ten minutes beyond (a day's window
 * reads 145 keys per queue, not 1,441). The slot length is part of the key.
 */
export function slotSecondsOf(windowMinutes: number): number {
  return windowMinutes <= 60 ? 60 : 600;
}
/** How long a call whose final hangup came before its queue ringing is remembered as ended. */
export const ENDED_MEMORY_MS = 60_000;
/** The list of queues seen is rewritten for a queue at most this often per instance. */
const SEEN_REFRESH_MS = 1000;
/** A call's place in the queues is forgotten this long after its last event (as the call tracker's TTL). */
const CALL_TTL_MS = 6 * 60 * 60 * 1000;

/** What `pbx-stats` sends per queue (SPEC section 10). Seconds and percentages have one decimal. */
export interface QueueFigures {
  queue: string;
  window: number;
  offered: number;
  answered: number;
  abandoned: number;
  abandonRate: number | null;
  serviceLevelPercent: number | null;
  averageWaitSeconds: number | null;
  longestWaitSeconds: number | null;
  averageTalkSeconds: number | null;
  waitingNow: number;
  longestWaitingNowSeconds: number;
  agents?: AgentCounts;
}

export interface AgentCounts {
  loggedIn: number;
  available: number;
  busy: number;
}

/** One call's stay in a queue: where, since when (ms), answered when. */
interface Visit {
  queue: string;
  enteredAt: number;
  answeredAt?: number;
}

/**
 * What is kept per call: its current (or last answered) visit, and an answer that arrived before
 * the call was seen entering (events of one call may be handled by two instances at once).
 */
interface CallPlace {
  visit?: Visit;
  /**
   * The call's final hangup came before it was seen entering a queue (webhooks overtaking each
   * other): its outcome, so a late queue ringing is counted and closed at once, not left waiting.
   */
  endedAs?: 'answered' | 'abandoned';
  answeredEarlyAt?: number;
  /** Some visit of the call was answered: a later summary's answeredAt is that answer, not a lost one. */
  answeredOnce?: boolean;
}

/** Counters of the visits that entered in one second: see COUNTER. */
type Counters = number[];
const COUNTER = {
  offered: 0,
  answered: 1,
  abandoned: 2,
  waitMsSum: 3,
  waitCount: 4,
  waitMsMax: 5,
  withinServiceLevel: 6,
  talkMsSum: 7,
  talkCount: 8,
} as const;
const COUNTERS = 9;

/** One slot: `[second of entry, ...counters]` rows, in no particular order. */
type Slot = number[][];

/** A change to the counters of the visit that entered queue `queue` at `enteredAt`. */
interface CounterChange {
  queue: string;
  enteredAt: number;
  add: Partial<Record<keyof typeof COUNTER, number>>;
  /** Raises waitMsMax to at least this. */
  waitMs?: number;
}

/** What one event does to a call's place and to the counters (see `placeEvent`). */
interface Effect {
  place: CallPlace | undefined;
  changes: CounterChange[];
  /** Queues the call now waits in / no longer waits in. */
  waitsIn?: { queue: string; since: number };
  leaves?: string;
}

export interface QueueStatsOptions {
  store: StateStore;
  /** The pbx-stats node's id: its state is its own (the same on every instance of a cluster). */
  owner: string;
  /** Named queues (any provider); empty: every queue the events type as one. */
  queues: readonly string[];
  windowMinutes: number;
  serviceLevelSeconds: number;
  /**
   * Whether a call has ended as far as the account knows: a call still waiting here whose hangup
   * this node missed (it was being redeployed) is then taken off the waiting list.
   */
  hasEnded?: (callId: string) => Promise<boolean>;
  now?: () => number;
}

/**
 * Rolling queue statistics (SPEC section 10) kept in a state store, so they are cluster-wide in
 * cluster mode and survive a redeploy. Per queue, counters per second of entry (bounded by the
 * window, not by traffic), the calls waiting now, and per call its current visit.
 *
 * The rules: a call enters queue Q with a ringing at Q (a hop typed queue, an extension named in
 * Queues, or an inbound call's called number named in Queues); it is answered by an `answered`
 * at an extension that is not a queue (or the summary's answeredAt at hangup, when that webhook
 * was lost); abandoned when it hangs up unanswered in the queue. Entering another queue ends the
 * visit: unanswered, it counts as offered only; answered, its talk ends there (a transfer).
 */
export class QueueStats {
  private readonly store: StateStore;
  private readonly owner: string;
  private readonly named: ReadonlySet<string>;
  readonly windowMinutes: number;
  private readonly serviceLevelMs: number;
  private readonly slotSeconds: number;
  private readonly now: () => number;
  private readonly hasEnded: (callId: string) => Promise<boolean>;
  /** When this instance last wrote each queue into the list of queues seen. */
  private readonly seenWrittenAt = new Map<string, number>();

  constructor(options: QueueStatsOptions) {
    this.store = options.store;
    this.owner = options.owner;
    this.named = new Set(options.queues);
    this.windowMinutes = options.windowMinutes;
    this.serviceLevelMs = options.serviceLevelSeconds * 1000;
    this.slotSeconds = slotSecondsOf(options.windowMinutes);
    this.now = options.now ?? Date.now;
    this.hasEnded = options.hasEnded ?? (async () => false);
  }

  /** The queue `event` rings, if it is the call entering one; see the class comment. */
  queueRungBy(event: CallEvent): string | undefined {
    if (event.event !== 'ringing') return undefined;
    const ext = event.extension;
    if (ext !== undefined && (event.extensionType === 'queue' || this.named.has(ext))) return this.followed(ext);
    if (event.direction === 'inbound') {
      const called = event.did ?? event.to;
      if (called !== undefined && this.named.has(called)) return called;
    }
    return undefined;
  }

  /** Whether `event` concerns queues at all: cheap, so other events cost no store round trip. */
  concerns(event: CallEvent): boolean {
    return event.event !== 'recording';
  }

  /** Applies one event (at `now`); rejects when the store fails (nothing is then half-applied that matters). */
  async apply(event: CallEvent): Promise<void> {
    if (!this.concerns(event)) return;
    const at = this.now();
    const rung = this.queueRungBy(event);
    if (rung !== undefined && !(await this.knowsQueue(rung, at))) return;
    let effect: Effect | undefined;
    const ttlMs = event.event === 'hangup' ? ENDED_MEMORY_MS : CALL_TTL_MS;
    await this.store.update<CallPlace>(this.callKey(event.callId), ttlMs, (current) => {
      effect = placeEvent(current, event, rung, at, this.isQueue(event.extension), this.serviceLevelMs);
      const place = effect.place;
      // A call that never entered a queue keeps no key (but for a minute after an early hangup).
      return place && (place.visit || place.answeredEarlyAt !== undefined || place.endedAs) ? place : undefined;
    });
    if (!effect) return;
    for (const change of effect.changes) await this.count(change);
    if (effect.leaves !== undefined) await this.store.indexRemove(this.waitingKey(effect.leaves), event.callId);
    if (effect.waitsIn) {
      const { queue, since } = effect.waitsIn;
      await this.store.indexSet(this.waitingKey(queue), event.callId, since, CALL_TTL_MS, MAX_WAITING_PER_QUEUE);
    }
  }

  /** The figures of every queue reported now: the named ones, else those seen in the window. */
  async figures(): Promise<QueueFigures[]> {
    const at = this.now();
    if (this.named.size > 0) return Promise.all([...this.named].map((q) => this.figuresOf(q, at)));
    const seen = await this.seenQueues(at);
    const figures = await Promise.all(seen.map(([q]) => this.figuresOf(q, at)));
    // A queue nobody entered within the window is left out, unless a call still waits there.
    const since = at - this.windowMinutes * 60_000;
    return figures.filter((f, i) => seen[i][1] >= since || f.waitingNow > 0);
  }

  /** Forgets everything this node counted (a removed node). */
  async clear(): Promise<void> {
    const at = this.now();
    for (const [queue] of await this.seenQueues(at)) {
      await this.store.delete(this.waitingKey(queue));
      for (const slot of this.slotsOf(at)) await this.store.delete(this.slotKey(queue, slot));
    }
    await this.store.delete(this.queuesKey());
  }

  private async figuresOf(queue: string, at: number): Promise<QueueFigures> {
    const since = at - this.windowMinutes * 60_000;
    const totals: Counters = new Array<number>(COUNTERS).fill(0);
    const slots = await Promise.all(this.slotsOf(at).map((slot) => this.store.get<Slot>(this.slotKey(queue, slot))));
    for (const rows of slots) {
      for (const row of rows ?? []) {
        if (row[0] * 1000 < since || row[0] * 1000 > at) continue;
        for (let i = 0; i < COUNTERS; i++) {
          totals[i] = i === COUNTER.waitMsMax ? Math.max(totals[i], row[i + 1]) : totals[i] + row[i + 1];
        }
      }
    }
    const waiting = await this.waitingIn(queue);
    const offered = totals[COUNTER.offered];
    const figures: QueueFigures = {
      queue,
      window: this.windowMinutes,
      offered,
      answered: totals[COUNTER.answered],
      abandoned: totals[COUNTER.abandoned],
      abandonRate: percent(totals[COUNTER.abandoned], offered),
      serviceLevelPercent: percent(totals[COUNTER.withinServiceLevel], offered),
      averageWaitSeconds: average(totals[COUNTER.waitMsSum], totals[COUNTER.waitCount]),
      longestWaitSeconds: totals[COUNTER.waitCount] > 0 ? seconds(totals[COUNTER.waitMsMax]) : null,
      averageTalkSeconds: average(totals[COUNTER.talkMsSum], totals[COUNTER.talkCount]),
      waitingNow: waiting.length,
      longestWaitingNowSeconds: waiting.length > 0 ? seconds(Math.max(0, at - Math.min(...waiting))) : 0,
    };
    return figures;
  }

  /**
   * Since when each call waiting in `queue` has waited. The index may hold a call whose answer was
   * handled first on another instance: each member is checked against the call's place.
   */
  private async waitingIn(queue: string): Promise<number[]> {
    const key = this.waitingKey(queue);
    const members = await this.store.indexRange(key, Infinity, MAX_WAITING_PER_QUEUE);
    const places = await Promise.all(members.map((id) => this.store.get<CallPlace>(this.callKey(id))));
    const out: number[] = [];
    for (let i = 0; i < members.length; i++) {
      const visit = places[i]?.visit;
      if (visit && visit.queue === queue && visit.answeredAt === undefined) {
        if (!(await this.hasEnded(members[i]))) {
          out.push(visit.enteredAt);
          continue;
        }
        // Its hangup never reached this node: no longer waiting, neither answered nor abandoned.
        await this.store.delete(this.callKey(members[i]));
      }
      await this.store.indexRemove(key, members[i]);
    }
    return out;
  }

  /** Adds `change` to the counters of its second of entry. */
  private async count(change: CounterChange): Promise<void> {
    const second = Math.floor(change.enteredAt / 1000);
    const slot = Math.floor(second / this.slotSeconds);
    const ttlMs = (this.windowMinutes * 60 + 2 * this.slotSeconds) * 1000;
    await this.store.update<Slot>(this.slotKey(change.queue, slot), ttlMs, (current) => {
      const rows = current ?? [];
      let row = rows.find((r) => r[0] === second);
      if (!row) {
        row = [second, ...new Array<number>(COUNTERS).fill(0)];
        rows.push(row);
      }
      for (const [name, n] of Object.entries(change.add) as Array<[keyof typeof COUNTER, number]>) row[COUNTER[name] + 1] += n;
      if (change.waitMs !== undefined) row[COUNTER.waitMsMax + 1] = Math.max(row[COUNTER.waitMsMax + 1], change.waitMs);
      return rows;
    });
  }

  /**
   * Records `queue` as seen (so figures list it); false when MAX_QUEUES others are followed already.
   * Named queues are always followed.
   */
  private async knowsQueue(queue: string, at: number): Promise<boolean> {
    if (this.named.has(queue)) return true;
    const written = this.seenWrittenAt.get(queue);
    if (written !== undefined && at - written >= 0 && at - written < SEEN_REFRESH_MS) return true;
    let known = false;
    await this.store.update<Array<[string, number]>>(this.queuesKey(), this.windowMinutes * 60_000 + CALL_TTL_MS, (current) => {
      const seen = (current ?? []).filter(([q]) => q !== queue);
      known = seen.length < MAX_QUEUES;
      if (known) seen.push([queue, at]);
      return seen;
    });
    if (known) {
      if (this.seenWrittenAt.size >= MAX_QUEUES) this.seenWrittenAt.clear();
      this.seenWrittenAt.set(queue, at);
    }
    return known;
  }

  /**
   * Queues seen, with when a call last entered each, by name: those entered within the window and
   * the call TTL before it (a call may wait that long).
   */
  private async seenQueues(at: number): Promise<Array<[string, number]>> {
    const seen = (await this.store.get<Array<[string, number]>>(this.queuesKey())) ?? [];
    const maxAgeMs = this.windowMinutes * 60_000 + CALL_TTL_MS;
    return seen.filter(([, lastAt]) => at - lastAt <= maxAgeMs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Queues that figure: a named one, or, when none are named, any. */
  private followed(queue: string): string | undefined {
    return this.named.size === 0 || this.named.has(queue) ? queue : undefined;
  }

  private isQueue(extension: string | undefined): boolean {
    return extension !== undefined && this.named.has(extension);
  }

  /** The slots the window covers at `at`, oldest first. */
  private slotsOf(at: number): number[] {
    const last = Math.floor(at / 1000 / this.slotSeconds);
    const first = Math.floor((at / 1000 - this.windowMinutes * 60) / this.slotSeconds);
    const out: number[] = [];
    for (let s = first; s <= last; s++) out.push(s);
    return out;
  }

  private callKey(callId: string): string {
    return `stats:${this.owner}:call:${callId}`;
  }

  private waitingKey(queue: string): string {
    return `stats:${this.owner}:waiting:${queue}`;
  }

  private slotKey(queue: string, slot: number): string {
    return `stats:${this.owner}:slot${this.slotSeconds}:${queue}:${slot}`;
  }

  private queuesKey(): string {
    return `stats:${this.owner}:queues`;
  }
}

/**
 * The pure rule: the call's new place and the counter changes `event` makes (at `at`, ms). `rung`
 * is the queue the event rings (queueRungBy); `atQueue` says the event's extension is a named queue.
 */
export function placeEvent(
  current: CallPlace | undefined,
  event: CallEvent,
  rung: string | undefined,
  at: number,
  atQueue: boolean,
  serviceLevelMs: number,
): Effect {
  const place: CallPlace = current ? { ...current, visit: current.visit && { ...current.visit } } : {};
  const visit = place.visit;
  const changes: CounterChange[] = [];
  const effect: Effect = { place, changes };
  const answer = (v: Visit, answeredAt: number): void => {
    const waitMs = Math.max(0, answeredAt - v.enteredAt);
    v.answeredAt = answeredAt;
    place.answeredOnce = true;
    changes.push({
      queue: v.queue,
      enteredAt: v.enteredAt,
      add: { answered: 1, waitMsSum: waitMs, waitCount: 1, withinServiceLevel: waitMs <= serviceLevelMs ? 1 : 0 },
      waitMs,
    });
    effect.leaves = v.queue;
  };
  const endTalk = (v: Visit, endedAt: number): void => {
    if (v.answeredAt === undefined) return;
    changes.push({ queue: v.queue, enteredAt: v.enteredAt, add: { talkMsSum: Math.max(0, endedAt - v.answeredAt), talkCount: 1 } });
  };

  if (event.event === 'ringing') {
    if (rung === undefined || (visit && visit.queue === rung && visit.answeredAt === undefined)) return effect;
    if (visit) {
      // Leaving for another queue: talk ends there (a transfer); unanswered, it was offered only.
      endTalk(visit, at);
      if (visit.answeredAt === undefined) effect.leaves = visit.queue;
    }
    const next: Visit = { queue: rung, enteredAt: at };
    place.visit = next;
    changes.push({ queue: rung, enteredAt: at, add: { offered: 1 } });
    if (place.endedAs) {
      // Its hangup came first: offered and ended at once, how long it waited is not known.
      changes.push({ queue: rung, enteredAt: at, add: { [place.endedAs]: 1 } });
      effect.place = undefined;
    } else if (place.answeredEarlyAt !== undefined) {
      // Its answer was handled first (another instance): the call waited no time we can tell.
      answer(next, at);
      delete place.answeredEarlyAt;
    } else {
      effect.waitsIn = { queue: rung, since: at };
    }
    return effect;
  }

  if (event.event === 'answered') {
    if (atQueue || event.extensionType === 'queue') return effect;
    if (!visit) {
      if (current === undefined) place.answeredEarlyAt = at;
      return effect;
    }
    if (visit.answeredAt === undefined) answer(visit, at);
    return effect;
  }

  if (event.event === 'hangup') {
    // A transferred leg's hangup does not end the call.
    if (!isFinalHangup(event)) return effect;
    effect.place = undefined;
    if (!visit) {
      if (!event.synthetic && !place.endedAs) {
        place.endedAs = event.outcome === 'answered' || place.answeredEarlyAt !== undefined ? 'answered' : 'abandoned';
        delete place.answeredEarlyAt;
        effect.place = place;
      }
      return effect;
    }
    if (visit.answeredAt === undefined) {
      effect.leaves = visit.queue;
      if (!event.synthetic && !place.answeredOnce && event.outcome === 'answered') {
        // The answer's webhook was lost: answered, but how long it waited and talked is not known.
        changes.push({ queue: visit.queue, enteredAt: visit.enteredAt, add: { answered: 1 } });
      } else if (!event.synthetic) {
        const waitMs = Math.max(0, at - visit.enteredAt);
        changes.push({ queue: visit.queue, enteredAt: visit.enteredAt, add: { abandoned: 1, waitMsSum: waitMs, waitCount: 1 }, waitMs });
      }
    } else {
      endTalk(visit, at);
    }
    return effect;
  }
  return effect;
}

function percent(part: number, whole: number): number | null {
  return whole > 0 ? Math.round((part / whole) * 1000) / 10 : null;
}

function average(sumMs: number, count: number): number | null {
  return count > 0 ? seconds(sumMs / count) : null;
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** The Queues property: a comma list of queue numbers / hotline numbers, trimmed, without empties; the first MAX_QUEUES. */
export function queuesOf(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  const queues = value.split(',').map((q) => q.trim());
  return [...new Set(queues.filter(Boolean))].slice(0, MAX_QUEUES);
}

import { matchDistance, matchKey, parsePhoneNumber, type PhoneNumber } from './phone-number';
import { MAX_TTL_MS } from './state/encoding';
import type { StateStore } from './state/types';
import type { CallEvent } from './types';

/**
 * Open missed calls per caller (SPEC section 9, `pbx-missed`), kept in a StateStore: this
 * process's own (one instance) or the one every instance shares (cluster mode), so they outlive
 * a redeploy and are the same on every instance.
 *
 * Entries are spread over MISSED_GROUPS keys by the caller's match key (the numbers that match
 * one caller share it, src/core/phone-number.ts), each key an array of at most MISSED_PER_GROUP
 * entries changed atomically with `store.update`: one missed call changes one small key, and
 * every change, resolution and expiry happens exactly once, whichever instance makes it.
 */

export const MISSED_GROUPS = 64;
export const MISSED_PER_GROUP = 160;
/** Open entries one pbx-missed node keeps at most: when a group is full, its oldest entry expires. */
export const MAX_OPEN_MISSED = MISSED_GROUPS * MISSED_PER_GROUP;
export const DEFAULT_KEEP_DAYS = 7;
/** The longest TTL a store sets (30 days). */
export const MAX_KEEP_DAYS = MAX_TTL_MS / 86_400_000;
export const DAY_MS = 86_400_000;
/** Kept beyond `keepDays` on each key, so an entry is expired (and reported) before its key expires. */
const KEY_TTL_MARGIN_MS = 60 * 60 * 1000;

/** One open entry: `msg.payload` of a `missed` message, and each item of `list`. */
export interface MissedCallEntry {
  /** The caller's number as the PBX wrote it on their latest missed call. */
  caller: string;
  count: number;
  firstAt: string;
  lastAt: string;
  /** The latest missed call. */
  callId: string;
  /** The last hop that rang on the latest missed call. */
  extension?: string;
  did?: string;
}

export type ResolvedBy = 'callback' | 'answered' | 'manual' | 'expired';

/** `msg.payload` of a `resolved` message: the entry, with callId and extension of the call that reached the caller. */
export interface ResolvedMissedCall extends MissedCallEntry {
  resolvedAt: string;
  resolvedBy: ResolvedBy;
}

/** What a call event means for the open entries. */
export type MissedCallChange =
  | { kind: 'missed'; caller: string; number: PhoneNumber; callId: string; extension?: string; did?: string; at: string }
  | { kind: 'reached'; by: 'callback' | 'answered'; number: PhoneNumber; callId: string; extension?: string };

/**
 * The rules (documented in the README and the node's help):
 * - missed: a `hangup` with outcome `missed` of an `inbound` call from a number (`from`);
 *   `extension` is the last hop of the call's route that rang, else the event's own;
 * - callback: an `outbound` call to the number (`to`) answered (its `answered` event, or a hangup
 *   with outcome `answered`);
 * - answered: an `inbound` call from the number answered, except by an IVR.
 * Anything else changes nothing.
 */
export function changeOf(event: CallEvent): MissedCallChange | undefined {
  const answered = event.event === 'answered' || (event.event === 'hangup' && event.outcome === 'answered');
  if (event.direction === 'inbound' && event.event === 'hangup' && event.outcome === 'missed') {
    const number = parsePhoneNumber(event.from);
    if (!number || !event.from) return undefined;
    const change: MissedCallChange = { kind: 'missed', caller: event.from.trim(), number, callId: event.callId, at: event.timestamp };
    const extension = lastRang(event) ?? event.extension;
    if (extension) change.extension = extension;
    if (event.did) change.did = event.did;
    return change;
  }
  if (answered && event.direction === 'outbound') {
    const number = parsePhoneNumber(event.to);
    if (!number) return undefined;
    return withExtension({ kind: 'reached', by: 'callback', number, callId: event.callId }, event.extension);
  }
  if (answered && event.direction === 'inbound' && event.extensionType !== 'ivr') {
    const number = parsePhoneNumber(event.from);
    if (!number) return undefined;
    return withExtension({ kind: 'reached', by: 'answered', number, callId: event.callId }, event.extension ?? event.call?.answeredBy);
  }
  return undefined;
}

function withExtension(change: MissedCallChange, extension: string | undefined): MissedCallChange {
  if (extension) change.extension = extension;
  return change;
}

function lastRang(event: CallEvent): string | undefined {
  const route = event.call?.route ?? [];
  for (let i = route.length - 1; i >= 0; i--) {
    const hop = route[i];
    if (hop.event === 'ringing' && hop.extension) return hop.extension;
  }
  return undefined;
}

export interface MissedCallBookOptions {
  store: StateStore;
  /** Whose entries: the pbx-missed node's id (the same on every instance). */
  owner: string;
  keepDays: number;
  now?: () => number;
}

/** `keepDays` as a node property: a number of days in (0, MAX_KEEP_DAYS], else the default. */
export function keepDaysOf(value: unknown): number {
  const days = typeof value === 'string' && value.trim() ? Number(value) : value;
  return typeof days === 'number' && Number.isFinite(days) && days > 0 ? Math.min(days, MAX_KEEP_DAYS) : DEFAULT_KEEP_DAYS;
}

/** The open missed calls of one pbx-missed node. Every method rejects when the store does. */
export class MissedCallBook {
  private readonly store: StateStore;
  private readonly owner: string;
  private readonly keepMs: number;
  private readonly now: () => number;
  /** Entries per group as last read or written by this instance: the node's status. */
  private readonly sizes = new Map<number, number>();

  constructor(options: MissedCallBookOptions) {
    this.store = options.store;
    this.owner = options.owner;
    this.keepMs = keepDaysOf(options.keepDays) * DAY_MS;
    this.now = options.now ?? Date.now;
  }

  /** Open entries as this instance last saw them (exact after `list`). */
  get openCount(): number {
    let n = 0;
    for (const size of this.sizes.values()) n += size;
    return n;
  }

  /**
   * Records a missed call. Resolves with the caller's entry as it is now, and, when the caller's
   * group was full, the entry that expired to make room; undefined when this call was counted already.
   */
  async recordMissed(
    change: Extract<MissedCallChange, { kind: 'missed' }>,
  ): Promise<{ entry: MissedCallEntry; evicted?: ResolvedMissedCall } | undefined> {
    const now = this.now();
    const at = timeOf(change.at, now);
    let result: { entry: MissedCallEntry; evicted?: ResolvedMissedCall } | undefined;
    await this.change(change.number, (entries) => {
      result = undefined;
      const i = bestMatch(entries, change.number);
      const previous = i < 0 ? undefined : entries[i];
      if (previous?.callId === change.callId) return entries;
      const entry: MissedCallEntry = {
        caller: change.caller,
        count: (previous?.count ?? 0) + 1,
        firstAt: previous && previous.firstAt < at ? previous.firstAt : at,
        lastAt: previous && previous.lastAt > at ? previous.lastAt : at,
        callId: change.callId,
      };
      if (change.extension) entry.extension = change.extension;
      if (change.did) entry.did = change.did;
      const next = entries.slice();
      let evicted: ResolvedMissedCall | undefined;
      if (previous) next[i] = entry;
      else {
        if (next.length >= MISSED_PER_GROUP) {
          const oldest = oldestIndex(next);
          evicted = resolvedOf(next[oldest], 'expired', now);
          next.splice(oldest, 1);
        }
        next.push(entry);
      }
      result = evicted ? { entry, evicted } : { entry };
      return next;
    });
    return result;
  }

  /**
   * Resolves the open entry of `number` (the closest match, see phone-number.ts), with the callId
   * and extension of the call that reached the caller; undefined when none is open.
   */
  async resolve(
    number: PhoneNumber,
    by: ResolvedBy,
    call?: { callId: string; extension?: string },
  ): Promise<ResolvedMissedCall | undefined> {
    const group = groupOf(number);
    const current = entriesOf(await this.store.get(this.keyOf(group)));
    this.sizes.set(group, current.length);
    if (bestMatch(current, number) < 0) return undefined;
    const now = this.now();
    let resolved: ResolvedMissedCall | undefined;
    await this.change(number, (entries) => {
      resolved = undefined;
      const i = bestMatch(entries, number);
      if (i < 0) return entries;
      resolved = resolvedOf(entries[i], by, now, call);
      return entries.filter((_, j) => j !== i);
    });
    return resolved;
  }

  /** Resolves, as `expired`, every entry whose latest missed call is older than `keepDays`. */
  async expire(): Promise<ResolvedMissedCall[]> {
    const now = this.now();
    const expired = (e: MissedCallEntry): boolean => Date.parse(e.lastAt) + this.keepMs <= now;
    const out: ResolvedMissedCall[] = [];
    await Promise.all(
      groups().map(async (group) => {
        const current = entriesOf(await this.store.get(this.keyOf(group)));
        this.sizes.set(group, current.length);
        if (!current.some(expired)) return;
        let removed: MissedCallEntry[] = [];
        const next = await this.store.update<MissedCallEntry[]>(this.keyOf(group), this.ttlMs(), (value) => {
          const entries = entriesOf(value);
          removed = entries.filter(expired);
          const kept = entries.filter((e) => !expired(e));
          return kept.length ? kept : undefined;
        });
        this.sizes.set(group, next?.length ?? 0);
        for (const e of removed) out.push(resolvedOf(e, 'expired', now));
      }),
    );
    return out.sort(byAge);
  }

  /** Every open entry, oldest first (by its first missed call). */
  async list(): Promise<MissedCallEntry[]> {
    const all = await Promise.all(
      groups().map(async (group) => {
        const entries = entriesOf(await this.store.get(this.keyOf(group)));
        this.sizes.set(group, entries.length);
        return entries;
      }),
    );
    return all.flat().sort(byAge);
  }

  /** Forgets every entry (the node was removed). */
  async clear(): Promise<void> {
    await Promise.all(groups().map((group) => this.store.delete(this.keyOf(group))));
    this.sizes.clear();
  }

  private async change(number: PhoneNumber, reduce: (entries: MissedCallEntry[]) => MissedCallEntry[]): Promise<void> {
    const group = groupOf(number);
    const next = await this.store.update<MissedCallEntry[]>(this.keyOf(group), this.ttlMs(), (value) => {
      const entries = reduce(entriesOf(value));
      return entries.length ? entries : undefined;
    });
    this.sizes.set(group, next?.length ?? 0);
  }

  private keyOf(group: number): string {
    return `missed:${this.owner}:${group}`;
  }

  private ttlMs(): number {
    return Math.min(this.keepMs + KEY_TTL_MARGIN_MS, MAX_TTL_MS);
  }
}

const groups = (): number[] => Array.from({ length: MISSED_GROUPS }, (_, i) => i);

/** The group of every number matching `number`: FNV-1a of its match key. */
export function groupOf(number: PhoneNumber): number {
  let h = 0x811c9dc5;
  for (const c of matchKey(number)) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return (h >>> 0) % MISSED_GROUPS;
}

/** The index of the entry `number` matches most closely (then the oldest), or -1. */
function bestMatch(entries: readonly MissedCallEntry[], number: PhoneNumber): number {
  let best = -1;
  let bestDistance = Infinity;
  entries.forEach((e, i) => {
    const n = parsePhoneNumber(e.caller);
    const d = n && matchDistance(n, number);
    if (d === undefined || d > bestDistance || (d === bestDistance && e.firstAt >= entries[best].firstAt)) return;
    best = i;
    bestDistance = d;
  });
  return best;
}

function oldestIndex(entries: readonly MissedCallEntry[]): number {
  let oldest = 0;
  entries.forEach((e, i) => {
    if (e.lastAt < entries[oldest].lastAt) oldest = i;
  });
  return oldest;
}

function byAge(a: MissedCallEntry, b: MissedCallEntry): number {
  return a.firstAt < b.firstAt ? -1 : a.firstAt > b.firstAt ? 1 : a.caller < b.caller ? -1 : a.caller > b.caller ? 1 : 0;
}

function resolvedOf(
  entry: MissedCallEntry,
  by: ResolvedBy,
  now: number,
  call?: { callId: string; extension?: string },
): ResolvedMissedCall {
  const out: ResolvedMissedCall = { ...entry, resolvedAt: new Date(now).toISOString(), resolvedBy: by };
  if (call) {
    out.callId = call.callId;
    if (call.extension) out.extension = call.extension;
    else delete out.extension;
  }
  return out;
}

/** An event's time as ISO text; a time that is no date, or later than now, is now. */
function timeOf(timestamp: string, now: number): string {
  const t = Date.parse(timestamp);
  return new Date(Number.isFinite(t) && t <= now ? t : now).toISOString();
}

/** The entries of a stored group: what is not an entry of this module's is left out. */
function entriesOf(value: unknown): MissedCallEntry[] {
  return Array.isArray(value) ? (value as unknown[]).filter(isEntry) : [];
}

function isEntry(value: unknown): value is MissedCallEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.caller === 'string' &&
    typeof e.count === 'number' &&
    typeof e.firstAt === 'string' &&
    typeof e.lastAt === 'string' &&
    typeof e.callId === 'string' &&
    Number.isFinite(Date.parse(e.lastAt))
  );
}

import { limitEvent } from './event-limits';
import { LruMap } from './lru';
import type { CallEvent, CallSummary, RouteHop } from './types';

/**
 * Hops kept in one call's route. Past it the route keeps the first half (how the call came in)
 * and the newest half (where it is now); hops in between are dropped, oldest first.
 */
export const MAX_ROUTE_HOPS = 100;
const ROUTE_HEAD = MAX_ROUTE_HOPS / 2;
/** Legs whose talk time one call counts; the hangup of a further leg adds nothing to `durationSeconds`. */
export const MAX_LEGS_PER_CALL = 256;
/** Default estimated bytes of all tracked calls; an ordinary call weighs ~1.4 KB, one at every limit ~220 KB. */
export const DEFAULT_MAX_TRACKED_BYTES = 32 * 1024 * 1024;

export interface CallTrackerOptions {
  /** Most calls remembered at once; the least recently active is forgotten first. */
  maxCalls?: number;
  /** Most estimated bytes of all calls remembered; the least recently active is forgotten first. */
  maxBytes?: number;
  /** A call not heard of for this long is forgotten. */
  ttlMs?: number;
  now?: () => number;
}

/**
 * One call as the tracker keeps it: plain JSON (no Map, no class), so the same state can live in
 * this process or in a shared store (cluster mode) and be changed by the same reducer.
 */
export interface CallState {
  summary: CallSummary;
  /** Talk time per leg, `[legId, seconds]`, so a re-sent or transferred leg is counted once. */
  legs: Array<[string, number]>;
  /** Estimated bytes of `summary.route` and `legs`, updated as they change. */
  listBytes: number;
  lastTransfer?: CallEvent['transfer'];
  direction: CallEvent['direction'];
  /**
   * The call's `from` and `to` as the first event that knew its direction said them: an event
   * that cannot tell the direction (a 3CX recording) names the parties from its own side.
   */
  parties?: { from?: string; to?: string };
  /** When this state was last changed, in ms since the epoch (the tracker's clock). */
  touchedAt: number;
  /** The final hangup was seen: outcome and end are fixed, ringing / answered change nothing. */
  ended: boolean;
  /**
   * Set when this package closed the call with a synthetic hangup (SPEC section 9): a real hangup
   * arriving later is not emitted again.
   */
  closedBy?: SyntheticClose;
}

/** Why a call was closed without its hangup: no event for `staleAfter`, or the PBX no longer lists it. */
export type SyntheticClose = 'stale' | 'reconciled';

/**
 * Builds the CallSummary of SPEC section 4 from the events of each call. Memory is bounded:
 * an LRU of at most `maxCalls` entries and `maxBytes` estimated bytes, each call dropped after
 * `ttlMs` without events. Each call is bounded too: every event's strings are cut to
 * EVENT_LIMITS first (`limitEvent`), the route to MAX_ROUTE_HOPS (first and newest hops), the
 * counted legs to MAX_LEGS_PER_CALL; so the summary copied into each hangup and recording costs
 * the same whatever the call went through. A call's size is estimated as it grows, never re-walked.
 *
 * Webhooks may arrive out of order or twice. `route` is in arrival order; `startedAt` is the
 * earliest event time. A hangup is final unless it ended a leg handed on by a transfer
 * (`legTransferred`); after the final hangup the call stays ended: a late ringing or answered is
 * still returned (it is a real event) but changes nothing in the summary, and a repeated hangup
 * keeps `endedAt` and `outcome` (it may still add the talk time of a leg not counted yet). A
 * recording (CDR) may still set duration and hangup cause.
 */
export class CallTracker {
  /**
   * Calls not ended and ended calls, each in recency order and weighted by estimated bytes. Under
   * pressure ended calls are forgotten first: an open call whose hangup was lost stays until the
   * stale sweep closes it, however many calls come and go meanwhile. A sweep costs O(open calls).
   */
  private readonly open = new LruMap<string, CallState>();
  private readonly ended = new LruMap<string, CallState>();
  private readonly maxCalls: number;
  readonly maxBytes: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: CallTrackerOptions = {}) {
    this.maxCalls = options.maxCalls ?? 10000;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_TRACKED_BYTES;
    this.ttlMs = options.ttlMs ?? 6 * 60 * 60 * 1000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.open.size + this.ended.size;
  }

  /** Estimated bytes of all tracked calls (at most `maxBytes`). */
  get bytes(): number {
    return this.open.totalWeight + this.ended.totalWeight;
  }

  /**
   * Records `event` and returns it (within EVENT_LIMITS), with a snapshot of `call` on hangup and
   * recording; undefined for a hangup marked `unlessEnded` of a call that has ended (dropped).
   */
  apply(input: CallEvent): CallEvent | undefined {
    const event = limitEvent(input);
    const t = this.now();
    let state = this.stateOf(event.callId);
    if (state && t - state.touchedAt > this.ttlMs) state = undefined;
    state ??= newCallState(event, t);
    state.touchedAt = t;
    const out = applyCallEvent(state, event);
    this.store(state, t);
    return out;
  }

  /**
   * Takes `state` as the call's state, as another holder of it (a shared store) has it now: the
   * route filter reads it, and should the shared store fail, this tracker goes on from there.
   */
  remember(state: CallState): void {
    const t = this.now();
    state.touchedAt = t;
    this.store(state, t);
  }

  /**
   * Ids of open calls (not ended) with no event for `idleMs`, at most `max`: what a sweep for
   * stale calls closes. Costs O(open calls).
   */
  idleCalls(idleMs: number, max: number): string[] {
    const t = this.now();
    const out: string[] = [];
    for (const [id, state] of this.open.oldestFirst()) {
      // Oldest touched first: the rest are younger still.
      if (out.length >= max || t - state.touchedAt < idleMs) break;
      out.push(id);
    }
    return out;
  }

  /** Ids of the open calls (not ended), at most `max`. */
  openCalls(max: number): string[] {
    const out: string[] = [];
    for (const [id] of this.open.oldestFirst()) {
      if (out.length >= max) break;
      out.push(id);
    }
    return out;
  }

  /** Whether call `callId` is tracked and has ended (false while open or not known). */
  hasEnded(callId: string): boolean {
    return this.ended.get(callId) !== undefined;
  }

  /** How many tracked calls have not ended. */
  get openCount(): number {
    return this.open.size;
  }

  /**
   * Closes open call `callId` with a synthetic hangup (see `closeCallState`) and returns it;
   * undefined when the call is not tracked, has ended, or had an event after `quietSince` (ms).
   */
  close(callId: string, reason: SyntheticClose, provider: CallEvent['provider'], quietSince: number): CallEvent | undefined {
    const state = this.open.get(callId);
    if (!state || state.ended || state.touchedAt > quietSince) return undefined;
    const t = this.now();
    const event = closeCallState(state, reason, provider, new Date(t).toISOString());
    this.store(state, t);
    return event;
  }

  private store(state: CallState, t: number): void {
    const id = state.summary.callId;
    const [into, other] = state.ended ? [this.ended, this.open] : [this.open, this.ended];
    other.delete(id);
    into.set(id, state, bytesOf(state));
    this.evict(t, id);
  }

  /**
   * The route of call `callId` so far (as bounded by MAX_ROUTE_HOPS), for reading at once: not a
   * copy. Undefined for a call not tracked (never seen, evicted, or past its TTL).
   */
  routeOf(callId: string): readonly RouteHop[] | undefined {
    const state = this.stateOf(callId);
    if (!state || this.now() - state.touchedAt > this.ttlMs) return undefined;
    return state.summary.route;
  }

  /** A copy of call `callId`'s summary so far; undefined for a call not tracked. */
  summaryOf(callId: string): CallSummary | undefined {
    const state = this.stateOf(callId);
    if (!state || this.now() - state.touchedAt > this.ttlMs) return undefined;
    return structuredClone(state.summary);
  }

  clear(): void {
    this.open.clear();
    this.ended.clear();
  }

  private stateOf(callId: string): CallState | undefined {
    return this.open.get(callId) ?? this.ended.get(callId);
  }

  /**
   * Forgets calls past the TTL, then, while over a bound, the least recently active ended call,
   * and only when no ended call is left the least recently active open one; never `current`.
   */
  private evict(t: number, current: string): void {
    for (const calls of [this.ended, this.open]) {
      for (let oldest = calls.oldest(); oldest && oldest.key !== current; oldest = calls.oldest()) {
        if (t - oldest.value.touchedAt <= this.ttlMs) break;
        calls.delete(oldest.key);
      }
    }
    for (const calls of [this.ended, this.open]) {
      for (let oldest = calls.oldest(); oldest && oldest.key !== current && this.overBounds(); oldest = calls.oldest()) {
        calls.delete(oldest.key);
      }
    }
  }

  private overBounds(): boolean {
    return this.size > this.maxCalls || this.bytes > this.maxBytes;
  }
}

/** A call first heard of by `event` (within EVENT_LIMITS) at `now`. */
export function newCallState(event: CallEvent, now: number): CallState {
  return {
    summary: { callId: event.callId, startedAt: event.timestamp, outcome: 'unknown', route: [], transfers: 0 },
    legs: [],
    listBytes: 0,
    direction: 'unknown',
    touchedAt: now,
    ended: false,
  };
}

/**
 * The call tracker as a pure reducer, for a shared store: `state` (undefined for a call not seen
 * yet) is left untouched; returns the call's next state and the event to emit.
 */
export function reduceCall(
  state: CallState | undefined,
  input: CallEvent,
  now: number,
): { state: CallState; event: CallEvent | undefined } {
  const event = limitEvent(input);
  const next = state ? structuredClone(state) : newCallState(event, now);
  next.touchedAt = now;
  return { state: next, event: applyCallEvent(next, event) };
}

/**
 * Applies `event` (within EVENT_LIMITS) to `state`, changing it in place; returns the event to
 * emit, completed from what the call's earlier events said, with a copy of the summary on hangup
 * and recording. A hangup marked `unlessEnded` (the provider cannot tell whether it sent one
 * already) of a call that has ended changes nothing and is not emitted: undefined.
 */
export function applyCallEvent(state: CallState, input: CallEvent): CallEvent | undefined {
  if (input.unlessEnded && input.event === 'hangup' && state.ended) return undefined;
  // The call was closed by this package: its real hangup, arriving late, is not emitted again.
  if (input.event === 'hangup' && state.closedBy) return undefined;
  const s = state.summary;
  let event = complete(input, state);
  const at = event.timestamp;
  if (at < s.startedAt) s.startedAt = at;
  switch (event.event) {
    case 'ringing':
      if (state.ended) break;
      addHop(state, { event: 'ringing', extension: event.extension, extensionType: event.extensionType, at });
      break;
    case 'answered':
      if (state.ended) break;
      if (event.transfer) {
        s.transfers++;
        state.lastTransfer = event.transfer;
        addHop(state, { event: 'transfer', extension: event.extension, extensionType: event.extensionType, at });
      }
      addHop(state, { event: 'answered', extension: event.extension, extensionType: event.extensionType, at });
      s.answeredAt ??= at;
      s.answeredBy = event.extension;
      s.outcome = 'answered';
      break;
    case 'hangup':
      // A provider that cannot tell (outcome unknown) gets the call's own answer: answered or missed.
      if (event.outcome === undefined || event.outcome === 'unknown') {
        const answered = state.ended ? s.outcome === 'answered' : !!s.answeredAt;
        event = { ...event, outcome: answered ? 'answered' : 'missed' };
      }
      if (event.durationSeconds !== undefined) {
        const leg = event.legId ?? event.callId;
        // Each leg's talk time counts once; after the end only a leg not counted yet adds to it.
        if (!state.ended || !hasLeg(state, leg)) countLeg(state, leg, event.durationSeconds);
      }
      if (state.ended) break;
      s.endedAt = at;
      s.outcome = s.answeredAt ? 'answered' : (event.outcome ?? 'unknown');
      if (event.hangupCause !== undefined) s.hangupCause = event.hangupCause;
      if (!event.legTransferred) state.ended = true;
      break;
    case 'recording':
      // A CDR is the provider's final word on the call: it overrides what the events said.
      if (event.durationSeconds !== undefined) s.durationSeconds = event.durationSeconds;
      if (event.hangupCause !== undefined) s.hangupCause = event.hangupCause;
      if (event.outcome !== undefined && !s.answeredAt) s.outcome = event.outcome;
      s.endedAt ??= at;
      break;
  }
  const { legTransferred, unlessEnded: _unlessEnded, ...out } = event;
  if (legTransferred && out.transfer === undefined && state.lastTransfer) out.transfer = state.lastTransfer;
  if (out.event === 'hangup' || out.event === 'recording') out.call = structuredClone(s);
  if (out.event === 'hangup' && !state.ended) legHangups.add(out);
  return out;
}

/** Emitted hangups that ended a leg handed on by a transfer, not the call (kept off the public event). */
const legHangups = new WeakSet<CallEvent>();

/** Whether `event`, as the tracker emitted it, is the hangup that ended its call. */
export function isFinalHangup(event: CallEvent): boolean {
  return event.event === 'hangup' && !legHangups.has(event);
}

/**
 * Closes open `state` in place with a synthetic hangup at `at` (SPEC section 9): the call ends
 * with what it had (answered stays answered, else `unknown`), and the returned event carries
 * `outcome: "unknown"`, `providerEvent` = `reason`, `synthetic: true` and the summary.
 */
export function closeCallState(state: CallState, reason: SyntheticClose, provider: CallEvent['provider'], at: string): CallEvent {
  const s = state.summary;
  s.endedAt = at;
  if (!s.answeredAt) s.outcome = 'unknown';
  state.ended = true;
  state.closedBy = reason;
  const event: CallEvent = {
    event: 'hangup',
    provider,
    providerEvent: reason,
    callId: s.callId,
    direction: state.direction,
    ...state.parties,
    outcome: 'unknown',
    timestamp: at,
    synthetic: true,
  };
  // The extension the call was last at, as a real hangup would name it (for the extension filter).
  const last = [...s.route].reverse().find((h) => h.extension !== undefined && (!s.answeredBy || h.extension === s.answeredBy));
  if (last?.extension !== undefined) event.extension = last.extension;
  if (last?.extensionType !== undefined) event.extensionType = last.extensionType;
  event.call = structuredClone(s);
  return event;
}

/** Fills what a provider leaves out of later events from what the call's earlier events said. */
function complete(event: CallEvent, state: CallState): CallEvent {
  if (state.direction === 'unknown') state.direction = event.direction;
  if (!state.parties && event.direction !== 'unknown' && (event.from !== undefined || event.to !== undefined)) {
    state.parties = {};
    if (event.from !== undefined) state.parties.from = event.from;
    if (event.to !== undefined) state.parties.to = event.to;
  }
  const out = { ...event };
  if (out.direction === 'unknown') {
    out.direction = state.direction;
    if (state.parties) Object.assign(out, state.parties);
  }
  if (out.extension && !out.extensionType) {
    const hop = state.summary.route.find((h) => h.extension === out.extension && h.extensionType);
    if (hop) out.extensionType = hop.extensionType;
  }
  return out;
}

/**
 * Rough V8 costs, in bytes, for the estimate: a string is a header and at most two bytes a
 * character; objects are counted with their slots in the route array or the leg map. The estimate
 * is meant to be of the order of the heap a call holds, for a budget, not an exact account.
 */
const STRING_BYTES = 16;
const CALL_BYTES = 600;
const HOP_BYTES = 128;
const LEG_BYTES = 48;

function textBytes(text: string | undefined): number {
  return text === undefined ? 0 : STRING_BYTES + 2 * text.length;
}

const hopBytes = (hop: RouteHop) => HOP_BYTES + textBytes(hop.extension) + textBytes(hop.at);

/** The call's estimated bytes: its few scalar strings plus the route and legs, kept as they grow. */
function bytesOf(state: CallState): number {
  const s = state.summary;
  return (
    CALL_BYTES +
    textBytes(s.callId) +
    textBytes(s.startedAt) +
    textBytes(s.answeredAt) +
    textBytes(s.endedAt) +
    textBytes(s.hangupCause) +
    textBytes(s.answeredBy) +
    textBytes(state.parties?.from) +
    textBytes(state.parties?.to) +
    state.listBytes
  );
}

/** Appends `hop`; at MAX_ROUTE_HOPS the oldest hop after the first half makes room. */
function addHop(state: CallState, hop: RouteHop): void {
  const route = state.summary.route;
  if (route.length >= MAX_ROUTE_HOPS) state.listBytes -= hopBytes(route.splice(ROUTE_HEAD, 1)[0]);
  route.push(hop);
  state.listBytes += hopBytes(hop);
}

function hasLeg(state: CallState, leg: string): boolean {
  return state.legs.some(([id]) => id === leg);
}

/** Records a leg's talk time and the call's total; a new leg past MAX_LEGS_PER_CALL is not counted. */
function countLeg(state: CallState, leg: string, seconds: number): void {
  const known = state.legs.find(([id]) => id === leg);
  if (known) {
    known[1] = seconds;
  } else {
    if (state.legs.length >= MAX_LEGS_PER_CALL) return;
    state.legs.push([leg, seconds]);
    state.listBytes += LEG_BYTES + textBytes(leg);
  }
  state.summary.durationSeconds = state.legs.reduce((total, [, s]) => total + s, 0);
}

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

interface TrackedCall {
  summary: CallSummary;
  /** Talk time per leg, so a re-sent or transferred leg is counted once. */
  legDurations: Map<string, number>;
  /** Estimated bytes of `summary.route` and `legDurations`, updated as they change. */
  listBytes: number;
  lastTransfer?: CallEvent['transfer'];
  direction: CallEvent['direction'];
  touchedAt: number;
  /** The final hangup was seen: outcome and end are fixed, ringing / answered change nothing. */
  ended: boolean;
}

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
  /** Weighted by each call's estimated bytes. */
  private readonly calls = new LruMap<string, TrackedCall>();
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
    return this.calls.size;
  }

  /** Estimated bytes of all tracked calls (at most `maxBytes`). */
  get bytes(): number {
    return this.calls.totalWeight;
  }

  /**
   * Records `event` and returns it (within EVENT_LIMITS), with a snapshot of `call` on hangup and
   * recording; undefined for a hangup marked `unlessEnded` of a call that has ended (dropped).
   */
  apply(input: CallEvent): CallEvent | undefined {
    let event = limitEvent(input);
    const t = this.now();
    const tracked = this.trackedCall(event.callId, event.timestamp, t);
    if (event.unlessEnded && event.event === 'hangup' && tracked.ended) return undefined;
    const s = tracked.summary;
    event = this.complete(event, tracked);
    const at = event.timestamp;
    if (at < s.startedAt) s.startedAt = at;
    switch (event.event) {
      case 'ringing':
        if (tracked.ended) break;
        addHop(tracked, { event: 'ringing', extension: event.extension, extensionType: event.extensionType, at });
        break;
      case 'answered':
        if (tracked.ended) break;
        if (event.transfer) {
          s.transfers++;
          tracked.lastTransfer = event.transfer;
          addHop(tracked, { event: 'transfer', extension: event.extension, extensionType: event.extensionType, at });
        }
        addHop(tracked, { event: 'answered', extension: event.extension, extensionType: event.extensionType, at });
        s.answeredAt ??= at;
        s.answeredBy = event.extension;
        s.outcome = 'answered';
        break;
      case 'hangup':
        // A provider that cannot tell (outcome unknown) gets the call's own answer: answered or missed.
        if (event.outcome === undefined || event.outcome === 'unknown') {
          const answered = tracked.ended ? s.outcome === 'answered' : !!s.answeredAt;
          event = { ...event, outcome: answered ? 'answered' : 'missed' };
        }
        if (event.durationSeconds !== undefined) {
          const leg = event.legId ?? event.callId;
          // Each leg's talk time counts once; after the end only a leg not counted yet adds to it.
          if (!tracked.ended || !tracked.legDurations.has(leg)) countLeg(tracked, leg, event.durationSeconds);
        }
        if (tracked.ended) break;
        s.endedAt = at;
        s.outcome = s.answeredAt ? 'answered' : (event.outcome ?? 'unknown');
        if (event.hangupCause !== undefined) s.hangupCause = event.hangupCause;
        if (!event.legTransferred) tracked.ended = true;
        break;
      case 'recording':
        // A CDR is the provider's final word on the call: it overrides what the events said.
        if (event.durationSeconds !== undefined) s.durationSeconds = event.durationSeconds;
        if (event.hangupCause !== undefined) s.hangupCause = event.hangupCause;
        if (event.outcome !== undefined && !s.answeredAt) s.outcome = event.outcome;
        s.endedAt ??= at;
        break;
    }
    this.calls.set(s.callId, tracked, bytesOf(tracked));
    this.evict(t, s.callId);
    const { legTransferred, unlessEnded: _unlessEnded, ...out } = event;
    if (legTransferred && out.transfer === undefined && tracked.lastTransfer) out.transfer = tracked.lastTransfer;
    if (out.event === 'hangup' || out.event === 'recording') out.call = structuredClone(s);
    return out;
  }

  /** Fills what a provider leaves out of later events from what the call's earlier events said. */
  private complete(event: CallEvent, tracked: TrackedCall): CallEvent {
    if (tracked.direction === 'unknown') tracked.direction = event.direction;
    const out = { ...event };
    if (out.direction === 'unknown') out.direction = tracked.direction;
    if (out.extension && !out.extensionType) {
      const hop = tracked.summary.route.find((h) => h.extension === out.extension && h.extensionType);
      if (hop) out.extensionType = hop.extensionType;
    }
    return out;
  }

  /**
   * The route of call `callId` so far (as bounded by MAX_ROUTE_HOPS), for reading at once: not a
   * copy. Undefined for a call not tracked (never seen, evicted, or past its TTL).
   */
  routeOf(callId: string): readonly RouteHop[] | undefined {
    const tracked = this.calls.get(callId);
    if (!tracked || this.now() - tracked.touchedAt > this.ttlMs) return undefined;
    return tracked.summary.route;
  }

  clear(): void {
    this.calls.clear();
  }

  /** The call `callId` as tracked, or a new one when it is unknown or past its TTL. */
  private trackedCall(callId: string, timestamp: string, t: number): TrackedCall {
    let tracked = this.calls.get(callId);
    if (tracked && t - tracked.touchedAt > this.ttlMs) tracked = undefined;
    tracked ??= {
      summary: { callId, startedAt: timestamp, outcome: 'unknown', route: [], transfers: 0 },
      legDurations: new Map(),
      listBytes: 0,
      direction: 'unknown',
      touchedAt: t,
      ended: false,
    };
    tracked.touchedAt = t;
    return tracked;
  }

  /** Forgets the least recently active calls while over a bound; never `current`, the newest. */
  private evict(t: number, current: string): void {
    for (let oldest = this.calls.oldest(); oldest && oldest.key !== current; oldest = this.calls.oldest()) {
      const over = this.calls.size > this.maxCalls || this.calls.totalWeight > this.maxBytes;
      if (!over && t - oldest.value.touchedAt <= this.ttlMs) break;
      this.calls.delete(oldest.key);
    }
  }
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
function bytesOf(tracked: TrackedCall): number {
  const s = tracked.summary;
  return (
    CALL_BYTES +
    textBytes(s.callId) +
    textBytes(s.startedAt) +
    textBytes(s.answeredAt) +
    textBytes(s.endedAt) +
    textBytes(s.hangupCause) +
    textBytes(s.answeredBy) +
    tracked.listBytes
  );
}

/** Appends `hop`; at MAX_ROUTE_HOPS the oldest hop after the first half makes room. */
function addHop(tracked: TrackedCall, hop: RouteHop): void {
  const route = tracked.summary.route;
  if (route.length >= MAX_ROUTE_HOPS) tracked.listBytes -= hopBytes(route.splice(ROUTE_HEAD, 1)[0]);
  route.push(hop);
  tracked.listBytes += hopBytes(hop);
}

/** Records a leg's talk time and the call's total; a new leg past MAX_LEGS_PER_CALL is not counted. */
function countLeg(tracked: TrackedCall, leg: string, seconds: number): void {
  if (!tracked.legDurations.has(leg)) {
    if (tracked.legDurations.size >= MAX_LEGS_PER_CALL) return;
    tracked.listBytes += LEG_BYTES + textBytes(leg);
  }
  tracked.legDurations.set(leg, seconds);
  tracked.summary.durationSeconds = sum(tracked.legDurations.values());
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

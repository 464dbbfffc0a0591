import { LruMap } from './lru';
import type { CallEvent, CallSummary } from './types';

export interface CallTrackerOptions {
  /** Most calls remembered at once; the least recently active is forgotten first. */
  maxCalls?: number;
  /** A call not heard of for this long is forgotten. */
  ttlMs?: number;
  now?: () => number;
}

interface TrackedCall {
  summary: CallSummary;
  /** Talk time per leg, so a re-sent or transferred leg is counted once. */
  legDurations: Map<string, number>;
  lastTransfer?: CallEvent['transfer'];
  direction: CallEvent['direction'];
  touchedAt: number;
  /** The final hangup was seen: outcome and end are fixed, ringing / answered change nothing. */
  ended: boolean;
}

/**
 * Builds the CallSummary of SPEC section 4 from the events of each call. Memory is bounded:
 * an LRU of at most `maxCalls` entries, each dropped after `ttlMs` without events.
 *
 * Webhooks may arrive out of order or twice. `route` is in arrival order; `startedAt` is the
 * earliest event time. A hangup is final unless it ended a leg handed on by a transfer
 * (`legTransferred`); after the final hangup the call stays ended: a late ringing or answered is
 * still returned (it is a real event) but changes nothing in the summary, and a repeated hangup
 * keeps `endedAt` and `outcome` (it may still add the talk time of a leg not counted yet). A
 * recording (CDR) may still set duration and hangup cause.
 */
export class CallTracker {
  private readonly calls = new LruMap<string, TrackedCall>();
  private readonly maxCalls: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: CallTrackerOptions = {}) {
    this.maxCalls = options.maxCalls ?? 10000;
    this.ttlMs = options.ttlMs ?? 6 * 60 * 60 * 1000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.calls.size;
  }

  /** Records `event` and returns it, with a snapshot of `call` on hangup and recording. */
  apply(event: CallEvent): CallEvent {
    const tracked = this.touch(event);
    const s = tracked.summary;
    event = this.complete(event, tracked);
    const at = event.timestamp;
    if (at < s.startedAt) s.startedAt = at;
    switch (event.event) {
      case 'ringing':
        if (tracked.ended) break;
        s.route.push({ event: 'ringing', extension: event.extension, extensionType: event.extensionType, at });
        break;
      case 'answered':
        if (tracked.ended) break;
        if (event.transfer) {
          s.transfers++;
          tracked.lastTransfer = event.transfer;
          s.route.push({ event: 'transfer', extension: event.extension, extensionType: event.extensionType, at });
        }
        s.route.push({ event: 'answered', extension: event.extension, extensionType: event.extensionType, at });
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
          if (!tracked.ended || !tracked.legDurations.has(leg)) {
            tracked.legDurations.set(leg, event.durationSeconds);
            s.durationSeconds = sum(tracked.legDurations.values());
          }
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
    const { legTransferred, ...out } = event;
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

  clear(): void {
    this.calls.clear();
  }

  private touch(event: CallEvent): TrackedCall {
    const t = this.now();
    let tracked = this.calls.get(event.callId);
    if (tracked && t - tracked.touchedAt > this.ttlMs) tracked = undefined;
    if (!tracked) {
      tracked = {
        summary: { callId: event.callId, startedAt: event.timestamp, outcome: 'unknown', route: [], transfers: 0 },
        legDurations: new Map(),
        direction: 'unknown',
        touchedAt: t,
        ended: false,
      };
    }
    tracked.touchedAt = t;
    this.calls.set(event.callId, tracked);
    this.evict(t);
    return tracked;
  }

  private evict(t: number): void {
    for (let oldest = this.calls.oldest(); oldest; oldest = this.calls.oldest()) {
      if (this.calls.size <= this.maxCalls && t - oldest.value.touchedAt <= this.ttlMs) break;
      this.calls.delete(oldest.key);
    }
  }
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

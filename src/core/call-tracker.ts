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
}

/**
 * Builds the CallSummary of SPEC section 4 from the events of each call. Memory is bounded:
 * an LRU of at most `maxCalls` entries, each dropped after `ttlMs` without events.
 */
export class CallTracker {
  private readonly calls = new Map<string, TrackedCall>();
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
    switch (event.event) {
      case 'ringing':
        s.route.push({ event: 'ringing', extension: event.extension, extensionType: event.extensionType, at });
        break;
      case 'answered':
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
        s.endedAt = at;
        // A provider that cannot tell (outcome unknown) gets the call's own answer: answered or missed.
        if (event.outcome === undefined || event.outcome === 'unknown') event = { ...event, outcome: s.answeredAt ? 'answered' : 'missed' };
        s.outcome = s.answeredAt ? 'answered' : (event.outcome ?? 'unknown');
        if (event.durationSeconds !== undefined) {
          tracked.legDurations.set(event.legId ?? event.callId, event.durationSeconds);
          s.durationSeconds = sum(tracked.legDurations.values());
        }
        if (event.hangupCause !== undefined) s.hangupCause = event.hangupCause;
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
    if (tracked) {
      this.calls.delete(event.callId);
    } else {
      tracked = {
        summary: { callId: event.callId, startedAt: event.timestamp, outcome: 'unknown', route: [], transfers: 0 },
        legDurations: new Map(),
        direction: 'unknown',
        touchedAt: t,
      };
    }
    tracked.touchedAt = t;
    this.calls.set(event.callId, tracked);
    this.evict(t);
    return tracked;
  }

  private evict(t: number): void {
    for (const [id, call] of this.calls) {
      if (this.calls.size <= this.maxCalls && t - call.touchedAt <= this.ttlMs) break;
      this.calls.delete(id);
    }
  }
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

import type { CallState } from '../core/call-tracker';
import { isRecord, text } from '../core/fields';
import type { StateStore } from '../core/state/types';
import type { CallEvent, CallSummary, Outcome } from '../core/types';

/** Longest `wait` of pbx-call, in seconds (SPEC section 3). */
export const MAX_WAIT_SECONDS = 600;
/** Cluster mode: how often a waiting instance reads the call's shared state (`call:<callId>`). */
export const SHARED_POLL_MS = 250;
/**
 * Cluster mode, calls matched by numbers: a dial seen by one instance is kept this long under
 * `dial:<extension>:<destination digits>` for the instance waiting for it.
 */
export const SHARED_DIAL_TTL_MS = MAX_WAIT_SECONDS * 1000;
/** How much earlier than the request a shared dial may be stamped (clocks of instances differ). */
export const SHARED_DIAL_SLACK_MS = 1000;
/** Events kept while the request is on its way, matched once its answer names the call. */
export const MAX_BUFFERED_EVENTS = 500;
/** The operations whose result `wait` holds until the call's outcome is known. */
export const WAITED_OPERATIONS: readonly string[] = ['makecall', 'doublecall'];

/** `wait` as configured: seconds from 0 (off) to MAX_WAIT_SECONDS; anything else is 0 or cut to the maximum. */
export function waitSecondsOf(value: unknown): number {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : 0;
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(seconds, MAX_WAIT_SECONDS);
}

/** What the held message gets on `msg.payload`: `outcome`, and `call` once a call was matched. */
export interface CallOutcome {
  outcome: Outcome;
  callId?: string;
  call?: CallSummary;
}

/** The call a request placed, as the node knows it before the answer. */
export interface WaitTarget {
  operation: string;
  extension: string;
  destination: string;
}

/** The part of an Account a wait uses. */
export interface OutcomeSource {
  subscribe(listener: (event: CallEvent) => void): () => void;
  /** Set in cluster mode: the calls every instance shares (`call:<callId>`). */
  readonly store?: StateStore;
  /** The call's summary as this instance's tracker has it. */
  summaryOf(callId: string): CallSummary | undefined;
}

/**
 * Answers of the call that mean the destination answered. A makecall's webhooks carry one
 * answer, the destination's: 3CX `outgoingcall_started` ("the subscriber responds"; the
 * extension's own pickup sends none), VoipNow `answer-outgoing` ("answer on outgoing call by the
 * other party"), the call center's `answer`. A double call rings the `from` side first: its
 * answer is the first, the destination's the second.
 */
export function answersNeeded(operation: string): number {
  return operation === 'doublecall' ? 2 : 1;
}

/** The digits of a number (`+49 (30) 1234-5` → `493012345`); text without any digit stays as it is. */
export function numberKey(value: string | undefined): string {
  const t = value?.trim() ?? '';
  const digits = t.replace(/\D+/g, '');
  return digits || t;
}

/**
 * An event of the call a request placed, when the provider's answer named neither id nor
 * reference: a ringing, answered or hangup, not inbound, of the extension (`extension` or
 * `from`), to the destination (`to`, compared on digits).
 */
export function isCallTo(event: CallEvent, target: WaitTarget): boolean {
  if (event.event === 'recording' || event.direction === 'inbound') return false;
  if (event.extension !== target.extension && event.from !== target.extension) return false;
  const to = numberKey(event.to);
  return to !== '' && to === numberKey(target.destination);
}

/** The key under which a dial of `extension` to `destination` is shared (cluster mode). */
export function dialKey(extension: string, destination: string | undefined): string {
  return `dial:${extension}:${numberKey(destination)}`;
}

interface SharedDial {
  callId: string;
  at: number;
}

/**
 * Cluster mode: shares each outbound dial this instance emits (extension or `from` to `to`), so an
 * instance waiting for a call matched by numbers finds its id whichever instance got the
 * webhook. One SET per outbound event; returns the stop function.
 */
export function shareDials(source: Pick<OutcomeSource, 'subscribe' | 'store'>, now: () => number = Date.now): () => void {
  const store = source.store;
  if (!store) return () => undefined;
  return source.subscribe((event) => {
    if (event.event === 'recording' || event.direction === 'inbound' || !numberKey(event.to)) return;
    const value: SharedDial = { callId: event.callId, at: now() };
    for (const extension of new Set([event.extension, event.from])) {
      // Best effort: while Redis is down the waiting instance falls back to its own events.
      if (extension) store.set(dialKey(extension, event.to), value, SHARED_DIAL_TTL_MS).catch(() => undefined);
    }
  });
}

/** The outcome a hangup gives: an `answered` before the destination's answer (double call) is `missed`. */
function endOutcome(outcome: Outcome | undefined, answers: number, needed: number): Outcome {
  const o = outcome ?? 'unknown';
  // No answer seen at all: the answer webhook was lost, the PBX's own word stands.
  if (o === 'answered' && answers > 0 && answers < needed) return 'missed';
  return o;
}

function answeredHops(call: CallSummary | undefined): number {
  return call ? call.route.filter((h) => h.event === 'answered').length : 0;
}

/** The outcome a call's shared state shows, or undefined while it is still undecided. */
export function outcomeOfState(state: CallState, operation: string): Outcome | undefined {
  const needed = answersNeeded(operation);
  const answers = answeredHops(state.summary);
  if (state.ended) return endOutcome(state.summary.outcome, answers, needed);
  return answers >= needed ? 'answered' : undefined;
}

/**
 * Which events belong to the call, and what they say of its outcome. Events are matched by the
 * provider's call id (the result's `callId`) or `reference` where its answer has one, else by
 * extension and destination (`isCallTo`); the first event that matches names the call, and from
 * then on only that call's events count.
 */
export class CallMatcher {
  private callId?: string;
  private reference?: string;
  private byNumbers = false;
  private answers = 0;
  private readonly needed: number;

  constructor(private readonly target: WaitTarget) {
    this.needed = answersNeeded(target.operation);
  }

  /** The request's result payload: what identifies the call. */
  identify(result: unknown): void {
    const r = isRecord(result) ? result : {};
    this.callId = text(r.callId);
    this.reference = text(r.reference);
    this.byNumbers = !this.callId && !this.reference;
  }

  /** The call, once known. */
  get call(): string | undefined {
    return this.callId;
  }

  /** True when the provider's answer named no call: it is found by extension and destination. */
  get matchesByNumbers(): boolean {
    return this.byNumbers;
  }

  /** The call found another way (a dial another instance saw); the first call named wins. */
  bind(callId: string): void {
    this.callId ??= callId;
  }

  /** Takes one event; returns the outcome when the event decides it. */
  offer(event: CallEvent): Outcome | undefined {
    if (!this.matches(event)) return undefined;
    this.callId ??= event.callId;
    if (event.event === 'answered') {
      this.answers++;
      return this.answers >= this.needed ? 'answered' : undefined;
    }
    if (event.event === 'hangup') return endOutcome(event.outcome, Math.max(this.answers, answeredHops(event.call)), this.needed);
    return undefined;
  }

  private matches(event: CallEvent): boolean {
    if (this.callId && event.callId === this.callId) return true;
    if (this.callId && !this.byNumbers) return false;
    if (this.reference && event.reference === this.reference) {
      this.callId = event.callId;
      return true;
    }
    if (this.byNumbers && !this.callId && isCallTo(event, this.target)) {
      this.callId = event.callId;
      return true;
    }
    return false;
  }
}

/**
 * One held result: subscribed to the account's events before the request is sent (events that
 * arrive before its answer are kept), decided by the first event that settles the call, by the
 * call's shared state in cluster mode (read every SHARED_POLL_MS, since the deciding webhook may
 * reach another instance), or `unknown` when `waitMs` has passed since the answer.
 */
export class OutcomeWait {
  private readonly matcher: CallMatcher;
  private buffered: CallEvent[] | undefined = [];
  private readonly unsubscribe: () => void;
  private timer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private finished = false;
  private resolve!: (outcome: CallOutcome) => void;
  private lastHangup?: CallEvent;
  /** When the wait began: before the request was sent. */
  private readonly sentAt: number;
  readonly result: Promise<CallOutcome>;

  constructor(
    private readonly source: OutcomeSource,
    private readonly target: WaitTarget,
    private readonly waitMs: number,
  ) {
    this.matcher = new CallMatcher(target);
    this.sentAt = Date.now();
    this.result = new Promise((resolve) => (this.resolve = resolve));
    this.unsubscribe = source.subscribe((event) => this.take(event));
  }

  /** The request's answer: events are matched from now on, those that came before it first. */
  start(resultPayload: unknown): Promise<CallOutcome> {
    if (this.finished) return this.result;
    this.matcher.identify(resultPayload);
    const early = this.buffered ?? [];
    this.buffered = undefined;
    this.timer = setTimeout(() => void this.finish('unknown'), this.waitMs);
    for (const event of early) this.take(event);
    if (this.source.store && !this.finished) this.schedulePoll(this.source.store);
    return this.result;
  }

  /** Stops waiting without an outcome (request failed, node closed); `result` never resolves. */
  cancel(): void {
    this.finished = true;
    this.stop();
  }

  private take(event: CallEvent): void {
    if (this.finished) return;
    if (this.buffered) {
      if (this.buffered.length < MAX_BUFFERED_EVENTS) this.buffered.push(event);
      return;
    }
    const outcome = this.matcher.offer(event);
    if (outcome === undefined) return;
    if (event.event === 'hangup') this.lastHangup = event;
    void this.finish(outcome);
  }

  private schedulePoll(store: StateStore): void {
    this.pollTimer = setTimeout(() => void this.poll(store), SHARED_POLL_MS);
  }

  private async poll(store: StateStore): Promise<void> {
    if (!this.matcher.call && this.matcher.matchesByNumbers) await this.findDial(store);
    const callId = this.matcher.call;
    if (callId && !this.finished) {
      try {
        const state = await store.get<CallState>(`call:${callId}`);
        const outcome = state && outcomeOfState(state, this.target.operation);
        if (state && outcome && !this.finished) return this.finish(outcome, state.summary);
      } catch {
        // Redis down or slow (StoreUnavailableError): this instance's own events still count; read again next time.
      }
    }
    if (!this.finished) this.schedulePoll(store);
  }

  /** A call matched by numbers whose dial another instance saw: its id, from the shared dial. */
  private async findDial(store: StateStore): Promise<void> {
    try {
      const dial = await store.get<SharedDial>(dialKey(this.target.extension, this.target.destination));
      if (dial && typeof dial.callId === 'string' && dial.at >= this.sentAt - SHARED_DIAL_SLACK_MS) this.matcher.bind(dial.callId);
    } catch {
      // Redis down: read again next time.
    }
  }

  private async finish(outcome: Outcome, summary?: CallSummary): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.stop();
    const callId = this.matcher.call;
    const result: CallOutcome = { outcome };
    if (callId) {
      result.callId = callId;
      const call = summary ?? this.lastHangup?.call ?? (await this.summaryOf(callId));
      if (call) result.call = call;
    }
    this.resolve(result);
  }

  private async summaryOf(callId: string): Promise<CallSummary | undefined> {
    const store = this.source.store;
    if (store) {
      try {
        const state = await store.get<CallState>(`call:${callId}`);
        if (state) return state.summary;
      } catch {
        // Redis down: this instance's own tracker has what it saw.
      }
    }
    return this.source.summaryOf(callId);
  }

  private stop(): void {
    this.unsubscribe();
    clearTimeout(this.timer);
    clearTimeout(this.pollTimer);
    this.buffered = undefined;
  }
}

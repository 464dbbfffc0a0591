import type { QueueFigures as StatsFigures } from '../core/queue-stats';

/**
 * The ground truth of a simulated queue load: each call's visits to queues as the simulator sent
 * them, and the queue figures of pbx-stats (SPEC section 10) computed from it. Every time is the
 * simulator's `Date.now()` taken right before the webhook that marks the moment was sent:
 * entering = the queue's ringing, answer = the agent's answered, end = the hangup or the ringing
 * of the next queue (a transfer).
 */
export interface QueueVisit {
  queue: string;
  enteredAt: number;
  answeredAt?: number;
  /** Absent while the visit lasts (a load stopped before the call ended). */
  endedAt?: number;
  /** answered: talked until the hangup; abandoned: the caller hung up unanswered; moved: left for another queue. */
  result?: 'answered' | 'abandoned' | 'moved';
  /** When an answered visit's talk ended: its hangup, or the next queue's ringing. */
  talkEndedAt?: number;
}

export interface QueueLoadCallLog {
  callId: string;
  visits: QueueVisit[];
}

export interface QueueLoadLog {
  provider: string;
  /** The seed the load was planned with: the same options and seed plan the same calls. */
  seed: number;
  startedAt: number;
  endedAt: number;
  /** Calls in the order they ended (those cut short by a stop last). */
  calls: QueueLoadCallLog[];
  /** True when the load was stopped (simulator closed or reset) before every call ended. */
  stopped: boolean;
  /** What the provider could not play as asked, e.g. transfers its webhooks cannot show. */
  notes: string[];
}

/** One queue's figures, as pbx-stats' payload names them (without `window` and `agents`). */
export type QueueFigures = Omit<StatsFigures, 'window' | 'agents'>;

export interface FigureWindow {
  /** Start of the window (ms since the epoch): visits that entered at or after it are offered. */
  since: number;
  /** The moment the figures are for (ms): nothing after it has happened yet. */
  now: number;
  serviceLevelSeconds: number;
  /** The queues to report, in this order; default every queue of the log, sorted. */
  queues?: string[];
}

const oneDecimal = (x: number): number => Math.round(x * 10) / 10;
const seconds = (ms: number): number => oneDecimal(ms / 1000);
const percent = (part: number, whole: number): number | null => (whole ? oneDecimal((part / whole) * 100) : null);
const average = (list: number[]): number | null => (list.length ? seconds(list.reduce((a, b) => a + b, 0) / list.length) : null);
const longest = (list: number[]): number => list.reduce((a, b) => Math.max(a, b), 0);

/**
 * The figures pbx-stats must show at `now` for the window [since, now], from a load's log
 * (the definitions of SPEC section 10): offered = visits that entered in the window; answered /
 * abandoned = of those, answered / hung up unanswered by `now`; wait = entering → answer or
 * abandon; talk = answer → its end (hangup or transfer); waitingNow = visits entered, unanswered
 * and not ended at `now`, whenever they entered. A pure function of its arguments.
 */
export function queueLoadFigures(log: Pick<QueueLoadLog, 'calls'>, window: FigureWindow): QueueFigures[] {
  const { since, now } = window;
  const happened = (t: number | undefined): t is number => t !== undefined && t <= now;
  const byQueue = new Map<string, QueueVisit[]>();
  for (const call of log.calls) {
    for (const visit of call.visits) {
      const list = byQueue.get(visit.queue) ?? [];
      list.push(visit);
      byQueue.set(visit.queue, list);
    }
  }
  const queues = window.queues ?? [...byQueue.keys()].sort();
  return queues.map((queue) => {
    const visits = (byQueue.get(queue) ?? []).filter((v) => v.enteredAt <= now);
    const offered = visits.filter((v) => v.enteredAt >= since);
    const answered = offered.filter((v) => happened(v.answeredAt));
    const abandoned = offered.filter((v) => v.result === 'abandoned' && happened(v.endedAt) && !happened(v.answeredAt));
    const waits = [...answered.map((v) => v.answeredAt! - v.enteredAt), ...abandoned.map((v) => v.endedAt! - v.enteredAt)];
    const talks = answered.filter((v) => happened(v.talkEndedAt)).map((v) => v.talkEndedAt! - v.answeredAt!);
    const waiting = visits.filter((v) => !happened(v.answeredAt) && !happened(v.endedAt));
    return {
      queue,
      offered: offered.length,
      answered: answered.length,
      abandoned: abandoned.length,
      abandonRate: percent(abandoned.length, offered.length),
      serviceLevelPercent: percent(
        answered.filter((v) => v.answeredAt! - v.enteredAt <= window.serviceLevelSeconds * 1000).length,
        offered.length,
      ),
      averageWaitSeconds: average(waits),
      longestWaitSeconds: waits.length ? seconds(longest(waits)) : null,
      averageTalkSeconds: average(talks),
      waitingNow: waiting.length,
      longestWaitingNowSeconds: seconds(longest(waiting.map((v) => now - v.enteredAt))),
    };
  });
}

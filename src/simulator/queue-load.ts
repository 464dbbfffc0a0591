import { setMaxListeners } from 'node:events';
import { setTimeout as pause } from 'node:timers/promises';
import type { QueueLoadCallLog, QueueLoadLog, QueueVisit } from './queue-load-log';
import { planQueueLoad, queueLoadSettings, type PlannedCall } from './queue-load-plan';

export {
  QUEUE_LOAD_DEFAULTS,
  QUEUE_LOAD_LIMITS,
  QUEUE_LOAD_OPTIONS,
  QueueLoadOptionError,
  planQueueLoad,
  queueLoadSettings,
} from './queue-load-plan';
export { queueLoadFigures, type QueueFigures, type QueueLoadLog } from './queue-load-log';

/** Notes a load's log keeps at most (one per failed call and the like). */
const MAX_NOTES = 20;

/**
 * One load call as a provider sends it. Each step that marks a moment of the ground truth
 * resolves with `Date.now()` taken right before the webhook that marks it, once that webhook
 * (and any that follow it in the same step) was delivered.
 */
export interface QueueLoadCall {
  readonly callId: string;
  /**
   * The call enters `queue` (the first, or after `transferredBy` blind-transferred it there):
   * resolves with the time before the queue's ringing. `agent` is who will answer or ring for it.
   */
  enter(queue: string, agent: string, transferredBy?: string): Promise<number>;
  /** The agent's phone rings (no moment of the log). */
  ringAgent(queue: string, agent: string): Promise<void>;
  /** The agent answers: resolves with the time before the answered webhook. */
  answer(queue: string, agent: string): Promise<number>;
  /**
   * The call ends: talked with `agent`, or abandoned in `queue` (no agent). Resolves with the time
   * before the hangup, after whatever follows it (recording, CDR) was delivered.
   */
  hangUp(queue: string, agent?: string): Promise<number>;
}

/** What a provider simulator gives the queue load. */
export interface QueueLoadHost {
  readonly id: string;
  /** Queues (as pbx-stats users name them) a load may use; the first two are the default. */
  readonly loadQueues: readonly string[];
  /** The agents that answer `queue`'s calls now (never empty). */
  loadAgents(queue: string): readonly string[];
  /** How long an agent's phone rings before the answer, within the wait. */
  readonly loadRingMs: number;
  /** Why the provider's webhooks cannot show a transfer between queues; undefined when they can. */
  readonly loadTransfersUnsupported?: string;
  startLoadCall(index: number): QueueLoadCall;
}

export interface QueueLoadMode {
  /** Go on until stopped (the command's demo load): no bounds on calls or time, no log kept. */
  endless?: boolean;
}

/**
 * Plays queue loads for one provider: calls overlap (each on its own timers, at most
 * `maxConcurrent` at once), agents taken by a load call count as busy while they talk (the
 * provider's queue state shows it), and the log is the ground truth of what was sent.
 */
export class QueueLoadPlayer {
  private readonly talking = new Map<string, number>();
  private readonly running = new Set<AbortController>();

  constructor(private readonly host: QueueLoadHost) {}

  /** Whether a load call talks with `agent` now. */
  isBusy(agent: string): boolean {
    return (this.talking.get(agent) ?? 0) > 0;
  }

  /** Stops every load now: no more webhooks; each `play` resolves with what was sent (`stopped`). */
  stop(): void {
    for (const controller of this.running) controller.abort();
    this.running.clear();
    this.talking.clear();
  }

  /** Plays a load; rejects with QueueLoadOptionError (before anything is sent) on bad options. */
  async play(options: Record<string, unknown>, mode: QueueLoadMode = {}): Promise<QueueLoadLog> {
    const settings = queueLoadSettings(options, this.host.loadQueues);
    const notes: string[] = [];
    if (settings.transferRatio > 0 && this.host.loadTransfersUnsupported) {
      notes.push(`transferRatio ignored: ${this.host.loadTransfersUnsupported}`);
      settings.transferRatio = 0;
    }
    const controller = new AbortController();
    this.running.add(controller);
    const { signal } = controller;
    // Every live call waits on this signal: one listener each, plus the arrivals' own.
    setMaxListeners(settings.maxConcurrent + 10, signal);
    const log: QueueLoadLog = {
      provider: this.host.id,
      seed: settings.seed,
      startedAt: Date.now(),
      endedAt: 0,
      calls: [],
      stopped: false,
      notes,
    };
    const live = new Set<Promise<void>>();
    try {
      for (const planned of planQueueLoad(settings, mode.endless)) {
        await pause(Math.max(0, log.startedAt + planned.atMs - Date.now()), undefined, { signal });
        while (live.size >= settings.maxConcurrent) await Promise.race(live);
        if (signal.aborted) break;
        const entry: QueueLoadCallLog = { callId: '', visits: [] };
        if (!mode.endless) log.calls.push(entry);
        const run = this.playCall(planned, entry, signal)
          .catch((err: unknown) => {
            if (notes.length < MAX_NOTES) notes.push(`call ${planned.index}: ${err instanceof Error ? err.message : String(err)}`);
          })
          .finally(() => live.delete(run));
        live.add(run);
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
    await Promise.all(live);
    this.running.delete(controller);
    log.stopped = signal.aborted;
    log.endedAt = Date.now();
    return log;
  }

  private async playCall(planned: PlannedCall, entry: QueueLoadCallLog, signal: AbortSignal): Promise<void> {
    const call = this.host.startLoadCall(planned.index);
    entry.callId = call.callId;
    let talking: { visit: QueueVisit; agent: string } | undefined;
    try {
      for (const plan of planned.visits) {
        const agent = this.freestAgent(plan.queue);
        const enteredAt = await call.enter(plan.queue, agent, talking?.agent);
        if (talking) {
          Object.assign(talking.visit, { endedAt: enteredAt, talkEndedAt: enteredAt, result: 'moved' });
          this.release(talking.agent);
          talking = undefined;
        }
        const visit: QueueVisit = { queue: plan.queue, enteredAt };
        entry.visits.push(visit);
        if (!plan.answered) {
          await pause(plan.waitMs, undefined, { signal });
          Object.assign(visit, { endedAt: await call.hangUp(plan.queue), result: 'abandoned' });
          return;
        }
        const ringMs = Math.min(this.host.loadRingMs, plan.waitMs);
        await pause(plan.waitMs - ringMs, undefined, { signal });
        await call.ringAgent(plan.queue, agent);
        await pause(ringMs, undefined, { signal });
        // Busy from the answer on: whoever hears of it finds the agent taken.
        this.take(agent);
        talking = { visit, agent };
        visit.answeredAt = await call.answer(plan.queue, agent);
        await pause(plan.talkMs ?? 0, undefined, { signal });
      }
      if (!talking) return;
      const endedAt = await call.hangUp(talking.visit.queue, talking.agent);
      Object.assign(talking.visit, { endedAt, talkEndedAt: endedAt, result: 'answered' });
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      if (talking) this.release(talking.agent);
    }
  }

  /** The queue's agent with the fewest load calls now; the first of them on a tie. */
  private freestAgent(queue: string): string {
    const agents = this.host.loadAgents(queue);
    return agents.reduce((best, a) => ((this.talking.get(a) ?? 0) < (this.talking.get(best) ?? 0) ? a : best), agents[0]);
  }

  private take(agent: string): void {
    this.talking.set(agent, (this.talking.get(agent) ?? 0) + 1);
  }

  private release(agent: string): void {
    const n = this.talking.get(agent) ?? 0;
    if (n <= 1) this.talking.delete(agent);
    else this.talking.set(agent, n - 1);
  }
}

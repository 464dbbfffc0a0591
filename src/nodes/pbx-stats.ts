import type { Account } from '../core/account';
import { PbxError } from '../core/errors';
import {
  DEFAULT_INTERVAL_SECONDS,
  DEFAULT_SERVICE_LEVEL_SECONDS,
  DEFAULT_WINDOW_MINUTES,
  MAX_INTERVAL_SECONDS,
  MAX_SERVICE_LEVEL_SECONDS,
  MAX_WINDOW_MINUTES,
  MIN_WINDOW_MINUTES,
  QueueStats,
  queuesOf,
  type AgentCounts,
  type QueueFigures,
} from '../core/queue-stats';
import { rateLimited } from '../core/rate-limit';
import type { StateStore } from '../core/state';
import { accountNode, failInput, storeFailure } from './account-node';
import { messageOf } from './as-pbx-error';
import { WorkLine } from './work-line';
import { t } from './i18n';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './red';

/** Events waiting for the store; past it an event is not counted, with a warning (the store is too slow). */
export const MAX_PENDING_EVENTS = 5000;
/** Agents are read from the PBX at most this often per queue, whatever the interval. */
const MIN_AGENT_POLL_SECONDS = 5;
/** How long a closing node waits for the events it is still counting. */
const CLOSE_WAIT_MS = 5000;

export default function register(RED: NodeAPI): void {
  function PbxStats(this: Node, saved: NodeDef): void {
    RED.nodes.createNode(this, saved);
    const node = this;
    const setup = accountNode(RED, node, saved);
    if (!setup) return;
    const { def, account, status } = setup;

    const intervalSeconds = boundedNumber(def.interval, DEFAULT_INTERVAL_SECONDS, 0, MAX_INTERVAL_SECONDS);
    const stats = new QueueStats({
      store: account.stateStore,
      owner: node.id,
      queues: queuesOf(def.queues),
      windowMinutes: boundedNumber(def.window, DEFAULT_WINDOW_MINUTES, MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES),
      serviceLevelSeconds: boundedNumber(def.serviceLevel, DEFAULT_SERVICE_LEVEL_SECONDS, 1, MAX_SERVICE_LEVEL_SECONDS),
      hasEnded: (callId) => account.hasEnded(callId),
    });
    const agents = account.supports('status', 'queue-agents')
      ? new AgentPoller(account, account.stateStore, node.id, Math.max(intervalSeconds, MIN_AGENT_POLL_SECONDS))
      : undefined;
    const warnFailure = rateLimited((m) => node.warn(m));
    // Figures are read after the events received before them.
    const line = new WorkLine(MAX_PENDING_EVENTS);

    const unsubscribe = account.subscribe((event) => {
      if (!stats.concerns(event)) return;
      const queued = line.run(() => stats.apply(event));
      if (!queued) return warnFailure(t(RED, 'stats.warn.overloaded'));
      queued.catch((err: unknown) => warnFailure(t(RED, 'stats.warn.failed', { reason: messageOf(err) })));
    });

    /** The figures of every queue, with agents where the provider has them. */
    async function currentFigures(): Promise<QueueFigures[]> {
      const queued = line.run(() => stats.figures());
      if (!queued) throw new PbxError('unreachable', t(RED, 'stats.errors.overloaded'));
      const figures = await queued;
      if (agents) {
        for (const f of figures) {
          const counts = await agents.countsOf(f.queue).catch((err: unknown) => {
            warnFailure(t(RED, 'stats.warn.agents', { queue: f.queue, reason: messageOf(err) }));
            return undefined;
          });
          if (counts) f.agents = counts;
        }
      }
      const waiting = figures.reduce((n, f) => n + f.waitingNow, 0);
      status.set({ fill: 'green', shape: 'dot', text: t(RED, 'stats.status.queues', { count: figures.length, waiting }) });
      return figures;
    }

    let sending = false;
    const timer =
      intervalSeconds > 0
        ? setInterval(() => {
            // A slow store skips a round rather than piling rounds up.
            if (sending) return;
            sending = true;
            currentFigures()
              .then((figures) => {
                for (const f of figures) node.send({ topic: f.queue, payload: f });
              })
              .catch((err: unknown) => warnFailure(t(RED, 'stats.warn.failed', { reason: messageOf(err) })))
              .finally(() => (sending = false));
          }, intervalSeconds * 1000)
        : undefined;
    timer?.unref?.();
    status.set({ fill: 'green', shape: 'dot', text: t(RED, 'stats.status.queues', { count: 0, waiting: 0 }) });

    node.on('input', (msg, send, done) => {
      currentFigures()
        .then((figures) => {
          for (const f of figures) send({ ...msg, topic: f.queue, payload: f } as NodeMessage);
          done();
        })
        .catch((err: unknown) =>
          failInput(
            account,
            msg,
            done,
            storeFailure(err, (reason) => t(RED, 'stats.errors.store', { reason })),
          ),
        );
    });

    node.on('close', (removed, done) => {
      if (timer) clearInterval(timer);
      unsubscribe();
      status.close();
      // A removed node's figures go with it; a redeployed node's stay for its successor.
      if (removed) line.run(() => stats.clear())?.catch(() => undefined);
      void line.settled(CLOSE_WAIT_MS).then(done);
    });
  }
  RED.nodes.registerType('pbx-stats', PbxStats);
}

/**
 * Agents per queue from `queue-agents`, read at most every `periodSeconds` per queue. The counts
 * are kept in the state store, so in cluster mode one instance reads them for all (a claim per period).
 */
export class AgentPoller {
  constructor(
    private readonly account: Account,
    private readonly store: StateStore,
    private readonly owner: string,
    private readonly periodSeconds: number,
  ) {}

  async countsOf(queue: string): Promise<AgentCounts | undefined> {
    const key = `stats:${this.owner}:agents:${queue}`;
    const periodMs = this.periodSeconds * 1000;
    if (await this.store.claim(`stats:${this.owner}:agents-poll:${queue}`, periodMs)) {
      const result = await this.account.run('status', 'queue-agents', { queue });
      const counts = agentCountsOf(result.payload);
      await this.store.set(key, counts, 3 * periodMs);
      return counts;
    }
    return this.store.get<AgentCounts>(key);
  }
}

/** `queue-agents` agents (`[{ extension, loggedIn, state }]`) counted: logged in, idle, busy. */
export function agentCountsOf(agents: unknown): AgentCounts {
  const counts: AgentCounts = { loggedIn: 0, available: 0, busy: 0 };
  if (!Array.isArray(agents)) return counts;
  for (const agent of agents as Array<{ loggedIn?: unknown; state?: unknown }>) {
    if (agent?.loggedIn !== true) continue;
    counts.loggedIn++;
    if (agent.state === 'idle') counts.available++;
    else counts.busy++;
  }
  return counts;
}

/** A number property within [min, max]; the default when absent or not a number in range. */
function boundedNumber(value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
}

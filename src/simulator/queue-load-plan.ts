import { ownProperty } from '../core/lookup';

/**
 * The provider-neutral part of the simulator's queue load: its options (bounded), a seeded
 * pseudo-random generator and the plan of the calls: Poisson arrivals (exponential gaps), a queue
 * per call, answered after a wait or abandoned, a talk time, and at most one blind transfer of an
 * answered call into another queue of the list, where it waits again.
 */

export const QUEUE_LOAD_LIMITS = {
  maxCalls: 10_000,
  /** Arrivals of one load fall within this span. */
  maxDurationMs: 60 * 60 * 1000,
  maxRatePerSecond: 100,
  /** Longest wait, abandon or talk time. */
  maxPhaseMs: 10 * 60 * 1000,
  maxConcurrent: 200,
  maxQueues: 50,
} as const;

export type MsRange = [number, number];

/** A load as the planner takes it: every option checked and filled in. */
export interface QueueLoadSettings {
  seed: number;
  ratePerSecond: number;
  /** Most calls; arrivals stop at this count or after `durationMs`, whichever comes first. */
  calls: number;
  durationMs: number;
  queues: string[];
  answerRatio: number;
  transferRatio: number;
  waitMs: MsRange;
  abandonMs: MsRange;
  talkMs: MsRange;
  maxConcurrent: number;
}

/** Defaults of the options `playQueueLoad` and `POST /_sim/queue-load` take. */
export const QUEUE_LOAD_DEFAULTS = {
  ratePerMinute: 60,
  calls: 20,
  answerRatio: 0.8,
  transferRatio: 0,
  waitMs: [1000, 15000] as MsRange,
  abandonMs: [2000, 20000] as MsRange,
  talkMs: [5000, 30000] as MsRange,
  maxConcurrent: QUEUE_LOAD_LIMITS.maxConcurrent,
};

/** Every option a load takes, with what it sets (for `pbx-simulator --help` and 400 answers). */
export const QUEUE_LOAD_OPTIONS: Readonly<Record<string, string>> = {
  seed: 'integer 0..4294967295: the same seed and options plan the same calls (default: random, echoed in the log)',
  ratePerMinute: `mean arrivals a minute (default ${QUEUE_LOAD_DEFAULTS.ratePerMinute}); or ratePerSecond (at most ${QUEUE_LOAD_LIMITS.maxRatePerSecond})`,
  ratePerSecond: 'mean arrivals a second, instead of ratePerMinute',
  calls: `number of calls, 1..${QUEUE_LOAD_LIMITS.maxCalls} (default ${QUEUE_LOAD_DEFAULTS.calls} unless durationMs is given)`,
  durationMs: `arrivals during this many ms, at most ${QUEUE_LOAD_LIMITS.maxDurationMs} (with calls: whichever ends first)`,
  queues: "the provider's queues to load, a list (default its first two)",
  answerRatio: `share of calls an agent answers, 0..1 (default ${QUEUE_LOAD_DEFAULTS.answerRatio}); the others abandon`,
  transferRatio: `share of answered calls the agent blind-transfers into another queue of the list, 0..1 (default ${QUEUE_LOAD_DEFAULTS.transferRatio})`,
  waitMs: `[min, max] wait in the queue before an agent answers (default [${QUEUE_LOAD_DEFAULTS.waitMs.join(', ')}])`,
  abandonMs: `[min, max] wait before the caller of an unanswered call hangs up (default [${QUEUE_LOAD_DEFAULTS.abandonMs.join(', ')}])`,
  talkMs: `[min, max] talk time of an answered call (default [${QUEUE_LOAD_DEFAULTS.talkMs.join(', ')}]); ranges at most ${QUEUE_LOAD_LIMITS.maxPhaseMs} ms`,
  maxConcurrent: `most calls at once, 1..${QUEUE_LOAD_LIMITS.maxConcurrent} (default ${QUEUE_LOAD_DEFAULTS.maxConcurrent}); a call due while that many last starts when one ends`,
};

/** Options a load cannot run with: the control API answers 400 with the message. */
export class QueueLoadOptionError extends Error {}

/**
 * Checks and completes a load's options (`provider` aside, unknown names are refused). `known`:
 * the provider's queues, the first two the default; `random` picks the seed when none is given.
 */
export function queueLoadSettings(
  options: Record<string, unknown>,
  known: readonly string[],
  random: () => number = Math.random,
): QueueLoadSettings {
  for (const name of Object.keys(options)) {
    if (name !== 'provider' && !Object.prototype.hasOwnProperty.call(QUEUE_LOAD_OPTIONS, name))
      throw new QueueLoadOptionError(`unknown option ${JSON.stringify(name)} (options: ${Object.keys(QUEUE_LOAD_OPTIONS).join(', ')})`);
  }
  const get = (name: string) => ownProperty(options, name);
  if (get('ratePerMinute') !== undefined && get('ratePerSecond') !== undefined)
    throw new QueueLoadOptionError('give ratePerMinute or ratePerSecond, not both');
  const perSecond =
    get('ratePerSecond') !== undefined
      ? numberIn('ratePerSecond', get('ratePerSecond'), 0, QUEUE_LOAD_LIMITS.maxRatePerSecond)
      : numberIn('ratePerMinute', get('ratePerMinute') ?? QUEUE_LOAD_DEFAULTS.ratePerMinute, 0, QUEUE_LOAD_LIMITS.maxRatePerSecond * 60) /
        60;
  if (perSecond <= 0) throw new QueueLoadOptionError('the arrival rate must be above 0');
  const countGiven = get('calls') !== undefined;
  const durationGiven = get('durationMs') !== undefined;
  const queues = queuesOf(get('queues'), known);
  const settings: QueueLoadSettings = {
    seed: get('seed') === undefined ? Math.floor(random() * 2 ** 32) : integerIn('seed', get('seed'), 0, 2 ** 32 - 1),
    ratePerSecond: perSecond,
    calls: countGiven
      ? integerIn('calls', get('calls'), 1, QUEUE_LOAD_LIMITS.maxCalls)
      : durationGiven
        ? QUEUE_LOAD_LIMITS.maxCalls
        : QUEUE_LOAD_DEFAULTS.calls,
    durationMs: durationGiven
      ? integerIn('durationMs', get('durationMs'), 1, QUEUE_LOAD_LIMITS.maxDurationMs)
      : QUEUE_LOAD_LIMITS.maxDurationMs,
    queues,
    answerRatio: numberIn('answerRatio', get('answerRatio') ?? QUEUE_LOAD_DEFAULTS.answerRatio, 0, 1),
    transferRatio: numberIn('transferRatio', get('transferRatio') ?? QUEUE_LOAD_DEFAULTS.transferRatio, 0, 1),
    waitMs: rangeOf('waitMs', get('waitMs') ?? QUEUE_LOAD_DEFAULTS.waitMs),
    abandonMs: rangeOf('abandonMs', get('abandonMs') ?? QUEUE_LOAD_DEFAULTS.abandonMs),
    talkMs: rangeOf('talkMs', get('talkMs') ?? QUEUE_LOAD_DEFAULTS.talkMs),
    maxConcurrent: integerIn(
      'maxConcurrent',
      get('maxConcurrent') ?? QUEUE_LOAD_DEFAULTS.maxConcurrent,
      1,
      QUEUE_LOAD_LIMITS.maxConcurrent,
    ),
  };
  if (settings.transferRatio > 0 && queues.length < 2)
    throw new QueueLoadOptionError('transferRatio needs at least two queues to transfer between');
  return settings;
}

function numberIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw new QueueLoadOptionError(`${name} must be a number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return value;
}

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    throw new QueueLoadOptionError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return value as number;
}

/** `[min, max]` in ms, or one number for both. */
function rangeOf(name: string, value: unknown): MsRange {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2)
    throw new QueueLoadOptionError(`${name} must be [min, max] in ms (or one number), not ${JSON.stringify(value)}`);
  const min = integerIn(`${name}[0]`, pair[0], 0, QUEUE_LOAD_LIMITS.maxPhaseMs);
  const max = integerIn(`${name}[1]`, pair[1], 0, QUEUE_LOAD_LIMITS.maxPhaseMs);
  if (min > max) throw new QueueLoadOptionError(`${name}: min ${min} is above max ${max}`);
  return [min, max];
}

/** A list (or comma text) of the provider's queues, each once; default its first two. */
function queuesOf(value: unknown, known: readonly string[]): string[] {
  if (value === undefined) return known.slice(0, 2);
  const list = typeof value === 'string' ? value.split(',').map((q) => q.trim()) : value;
  if (!Array.isArray(list) || !list.length || list.length > QUEUE_LOAD_LIMITS.maxQueues)
    throw new QueueLoadOptionError(
      `queues must be a list of 1 to ${QUEUE_LOAD_LIMITS.maxQueues} queues of the provider (${known.join(', ')})`,
    );
  const out: string[] = [];
  for (const q of list) {
    if (typeof q !== 'string' || !known.includes(q))
      throw new QueueLoadOptionError(`no queue ${JSON.stringify(q)} here (queues: ${known.join(', ')})`);
    if (!out.includes(q)) out.push(q);
  }
  return out;
}

/** mulberry32: a small seeded generator of numbers in [0, 1); the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** One visit of a planned call: answered after `waitMs` and talked `talkMs`, or abandoned after `waitMs`. */
export interface PlannedVisit {
  queue: string;
  answered: boolean;
  waitMs: number;
  /** Talk time of an answered visit: until the hangup, or until the transfer when a visit follows. */
  talkMs?: number;
}

export interface PlannedCall {
  index: number;
  /** Arrival, ms after the load started. */
  atMs: number;
  /** One visit, or two when the answered call is transferred into another queue. */
  visits: PlannedVisit[];
}

/**
 * The calls of a load in arrival order, drawn from `settings.seed`: Poisson arrivals at
 * `ratePerSecond` (exponential gaps), at most `calls` and within `durationMs`; `endless` (the
 * command's demo load) ignores both bounds and goes on until its consumer stops.
 */
export function* planQueueLoad(settings: QueueLoadSettings, endless = false): Generator<PlannedCall> {
  const random = seededRandom(settings.seed);
  const uniform = ([min, max]: MsRange) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const visit = (queue: string): PlannedVisit => {
    const answered = random() < settings.answerRatio;
    return answered
      ? { queue, answered, waitMs: uniform(settings.waitMs), talkMs: uniform(settings.talkMs) }
      : { queue, answered, waitMs: uniform(settings.abandonMs) };
  };
  let at = 0;
  for (let index = 0; endless || index < settings.calls; index++) {
    at += (-Math.log(1 - random()) / settings.ratePerSecond) * 1000;
    if (!endless && at > settings.durationMs) return;
    const visits = [visit(pick(settings.queues))];
    if (visits[0].answered && settings.transferRatio > 0 && random() < settings.transferRatio) {
      visits.push(visit(pick(settings.queues.filter((q) => q !== visits[0].queue))));
    }
    yield { index, atMs: Math.round(at), visits };
  }
}

/**
 * The gentle, endless queue load `pbx-simulator --queue-load <provider>` plays, so a demo
 * wallboard moves within a minute: about 6 calls a minute per provider into its first two queues.
 */
export const DEMO_QUEUE_LOAD = {
  ratePerMinute: 6,
  answerRatio: 0.8,
  transferRatio: 0.1,
  waitMs: [5000, 40000],
  abandonMs: [10000, 60000],
  talkMs: [20000, 90000],
} as const satisfies Record<string, unknown>;

/** The demo load as `--help` describes it. */
export function queueLoadDemoText(): string[] {
  const s = (ms: readonly number[]) => ms.map((x) => x / 1000).join('-');
  return [
    `about ${DEMO_QUEUE_LOAD.ratePerMinute} calls a minute each (Poisson arrivals) into the provider's`,
    `first two queues; ${DEMO_QUEUE_LOAD.answerRatio * 100}% answered after ${s(DEMO_QUEUE_LOAD.waitMs)} s, the others`,
    `abandoned after ${s(DEMO_QUEUE_LOAD.abandonMs)} s; talk ${s(DEMO_QUEUE_LOAD.talkMs)} s; ${DEMO_QUEUE_LOAD.transferRatio * 100}% of answered`,
    'calls are blind-transferred into the other queue (not on cloud-callcenter:',
    'its callbacks name no queue). Agents show busy while they talk. Each',
    'provider needs its --webhook target.',
  ];
}

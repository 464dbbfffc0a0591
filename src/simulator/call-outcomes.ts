/**
 * How a call placed through the API (makecall, doublecall) ends, chosen by the destination
 * number's last digits, so tests and demos pick an outcome per call:
 * - ends in `0000`: nobody answers; the call rings, then ends unanswered;
 * - ends in `0486` (SIP 486 "Busy Here"): the destination is busy; the call ends at once;
 * - any other number: the destination answers, talks, hangs up.
 * Each provider reports the end in its own words: VoipNow's hangup says BUSY, 3CX WebAPI and the
 * call center have no busy signal in their webhooks, so a busy destination is a missed call there.
 */
export type PlacedCallOutcome = 'answered' | 'no-answer' | 'busy';

export const NO_ANSWER_SUFFIX = '0000';
export const BUSY_SUFFIX = '0486';

export function placedCallOutcome(destination: string): PlacedCallOutcome {
  if (destination.endsWith(NO_ANSWER_SUFFIX)) return 'no-answer';
  if (destination.endsWith(BUSY_SUFFIX)) return 'busy';
  return 'answered';
}

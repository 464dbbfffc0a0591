/**
 * VoipNow Call Event sequences the simulator plays. Call Events are configured per extension
 * and per type; each step names its type (sent as `?event=<type>` unless the scenario is
 * played without it) and the `CallStatus` VoipNow sends with it: CALLING on dial, ANSWER or
 * UNKNOWN on hangup. Answer events carry ANSWER (the call is answered at that moment).
 */
export type VoipNowEventType = 'dial-in' | 'dial-out' | 'answer-incoming' | 'answer-outgoing' | 'hangup';
export type VoipNowCallStatus = 'CALLING' | 'ANSWER' | 'UNKNOWN';

export interface VoipNowStep {
  type: VoipNowEventType;
  status: VoipNowCallStatus;
  /** Whose Call Event this is: the called extension (IN) or the calling one (OUT). */
  flow: 'IN' | 'OUT';
}

export interface VoipNowScenario {
  title: string;
  /** inbound: a caller from outside dials a DID routed to `extension`; outbound: `extension` dials out. */
  kind: 'inbound' | 'outbound' | 'internal';
  steps: VoipNowStep[];
}

const step = (type: VoipNowEventType, status: VoipNowCallStatus, flow: 'IN' | 'OUT'): VoipNowStep => ({ type, status, flow });

export const VOIPNOW_SCENARIOS: Record<string, VoipNowScenario> = {
  'inbound-answered': {
    title: 'Inbound call answered by the extension',
    kind: 'inbound',
    steps: [step('dial-in', 'CALLING', 'IN'), step('answer-incoming', 'ANSWER', 'IN'), step('hangup', 'ANSWER', 'IN')],
  },
  'inbound-missed': {
    title: 'Inbound call nobody answered',
    kind: 'inbound',
    steps: [step('dial-in', 'CALLING', 'IN'), step('hangup', 'UNKNOWN', 'IN')],
  },
  'outbound-answered': {
    title: 'Outbound call answered by the called party',
    kind: 'outbound',
    steps: [step('dial-out', 'CALLING', 'OUT'), step('answer-outgoing', 'ANSWER', 'OUT'), step('hangup', 'ANSWER', 'OUT')],
  },
  'outbound-unanswered': {
    title: 'Outbound call the called party did not answer',
    kind: 'outbound',
    steps: [step('dial-out', 'CALLING', 'OUT'), step('hangup', 'UNKNOWN', 'OUT')],
  },
  'internal-answered': {
    title: 'One extension calls another, answered',
    kind: 'internal',
    steps: [
      step('dial-out', 'CALLING', 'OUT'),
      step('dial-in', 'CALLING', 'IN'),
      step('answer-incoming', 'ANSWER', 'IN'),
      step('answer-outgoing', 'ANSWER', 'OUT'),
      step('hangup', 'ANSWER', 'IN'),
    ],
  },
};

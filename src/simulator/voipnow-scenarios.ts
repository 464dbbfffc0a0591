/**
 * VoipNow Call Event sequences the simulator plays. Call Events are configured per extension
 * and per type; each step names its type (sent as `?event=<type>`, or as `EventType` in the
 * payload by a `payload` sender, or not at all when the scenario is played without it) and the
 * `CallStatus` VoipNow sends with it: CALLING on dial; on hangup ANSWER or UNKNOWN (VoipNow 3)
 * or BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL (later versions). Answer events carry ANSWER
 * (the call is answered at that moment). `call-interactive` is an IVR's routing request (Call
 * Interactive), which only a `payload` sender delivers to the Call Events URL, named as such.
 */
export type VoipNowEventType = 'dial-in' | 'dial-out' | 'answer-incoming' | 'answer-outgoing' | 'hangup' | 'call-interactive';
export type VoipNowCallStatus = 'CALLING' | 'ANSWER' | 'UNKNOWN' | 'BUSY' | 'NOANSWER' | 'CANCEL' | 'CONGESTION' | 'CHANUNAVAIL';

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
  'inbound-busy': {
    title: 'Inbound call to an extension that is busy',
    kind: 'inbound',
    steps: [step('dial-in', 'CALLING', 'IN'), step('hangup', 'BUSY', 'IN')],
  },
  'inbound-noanswer': {
    title: 'Inbound call that rang until the dial timed out',
    kind: 'inbound',
    steps: [step('dial-in', 'CALLING', 'IN'), step('hangup', 'NOANSWER', 'IN')],
  },
  'inbound-cancelled': {
    title: 'Inbound call the caller hung up before anyone answered',
    kind: 'inbound',
    steps: [step('dial-in', 'CALLING', 'IN'), step('hangup', 'CANCEL', 'IN')],
  },
  'inbound-ivr-answered': {
    title: 'Inbound call whose IVR asks for routing (Call Interactive), then answered by the extension',
    kind: 'inbound',
    steps: [
      step('call-interactive', 'ANSWER', 'IN'),
      step('dial-in', 'CALLING', 'IN'),
      step('answer-incoming', 'ANSWER', 'IN'),
      step('hangup', 'ANSWER', 'IN'),
    ],
  },
  'outbound-congestion': {
    title: 'Outbound call to a number the network does not recognize',
    kind: 'outbound',
    steps: [step('dial-out', 'CALLING', 'OUT'), step('hangup', 'CONGESTION', 'OUT')],
  },
  'outbound-chanunavail': {
    title: 'Outbound call whose channel is unavailable',
    kind: 'outbound',
    steps: [step('dial-out', 'CALLING', 'OUT'), step('hangup', 'CHANUNAVAIL', 'OUT')],
  },
  'outbound-busy': {
    title: 'Outbound call to a line that is busy',
    kind: 'outbound',
    steps: [step('dial-out', 'CALLING', 'OUT'), step('hangup', 'BUSY', 'OUT')],
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

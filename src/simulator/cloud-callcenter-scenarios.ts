/**
 * Call scenarios of the cloud call center, as the callbacks its extension call-status
 * callback sends (status ring / answer / hangup) followed by one CDR callback. The simulator
 * fills in uuids, numbers and times.
 */
export type CallCenterStatus = 'ring' | 'answer' | 'hangup';

export interface CallCenterStep {
  status: CallCenterStatus;
  /** Which extension the callback is about: the scenario's first or second extension. */
  on: 'ext' | 'ext2';
  direction: 'callin' | 'callout';
  /** `isbleg` "true": the mobile (b) side of a double call rings, not the seat. */
  bleg?: boolean;
}

export interface CallCenterScenario {
  title: string;
  /** Callback `method` / CDR `callmethod`: 1 ext→ext, 2 direct dial, 3 API call, 4 API double call, 6 IVR/group. */
  method: '1' | '2' | '3' | '4' | '6';
  /** Who calls whom: decides `caller` and `callee`. */
  parties: 'inbound' | 'outbound' | 'doublecall' | 'internal';
  /** Talk time in the CDR; 0 = not answered (no recording). */
  billsec: number;
  steps: CallCenterStep[];
}

const step = (status: CallCenterStatus, direction: CallCenterStep['direction'], on: CallCenterStep['on'] = 'ext', bleg = false) => ({
  status,
  direction,
  on,
  bleg,
});

export const CALL_CENTER_SCENARIOS: Record<string, CallCenterScenario> = {
  'inbound-answered': {
    title: 'Inbound call answered by an extension',
    method: '6',
    parties: 'inbound',
    billsec: 37,
    steps: [step('ring', 'callin'), step('answer', 'callin'), step('hangup', 'callin')],
  },
  'inbound-missed': {
    title: 'Inbound call nobody answered',
    method: '6',
    parties: 'inbound',
    billsec: 0,
    steps: [step('ring', 'callin'), step('hangup', 'callin')],
  },
  'outbound-answered': {
    title: 'Outbound call dialled on an extension, answered',
    method: '2',
    parties: 'outbound',
    billsec: 64,
    steps: [step('ring', 'callout'), step('answer', 'callout'), step('hangup', 'callout')],
  },
  'outbound-unanswered': {
    title: 'Outbound call dialled on an extension, not answered',
    method: '2',
    parties: 'outbound',
    billsec: 0,
    steps: [step('ring', 'callout'), step('hangup', 'callout')],
  },
  'api-doublecall': {
    title: 'API double call: the seat side (a) rings first, then the mobile side (b)',
    method: '4',
    parties: 'doublecall',
    billsec: 25,
    steps: [
      step('ring', 'callout'),
      step('answer', 'callout'),
      step('ring', 'callout', 'ext', true),
      step('answer', 'callout', 'ext', true),
      step('hangup', 'callout', 'ext', true),
    ],
  },
  'extension-to-extension': {
    title: 'One extension calls another',
    method: '1',
    parties: 'internal',
    billsec: 12,
    steps: [step('ring', 'callout'), step('ring', 'callin', 'ext2'), step('answer', 'callin', 'ext2'), step('hangup', 'callin', 'ext2')],
  },
};

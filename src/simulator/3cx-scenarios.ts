/**
 * The call scenarios documented for the 3CX WebAPI add-on (the tables in the Postman
 * collection's description), as step lists. The simulator fills in call id, caller and DID;
 * a unit test checks these steps against the vendor document itself.
 */
export interface ThreeCxStep {
  Event: string;
  User: string;
  Usertype?: 'ext' | 'queue' | 'other';
  Trtype?: 'NotDef' | 'Blind' | 'Attended';
  Finishtype?: 'Ok' | 'Missed';
  Transfer?: 'True' | 'False';
  /** Talk time "mm:ss"; '' when missed. */
  Duration?: string;
  /** Leg suffix of the Id: 0 while routing, 1 once answered, 2 after a transfer. */
  leg: number;
  /** Callerid shows MAKECALL on the answer of a makecall. */
  makecall?: boolean;
}

const ring = (User: string, Usertype: 'ext' | 'queue' | 'other', leg = 0): ThreeCxStep => ({ Event: 'ringing', User, Usertype, leg });
const pickup = (User: string, leg: number, Trtype: ThreeCxStep['Trtype'] = 'NotDef'): ThreeCxStep => ({
  Event: 'incomingcall_started',
  User,
  Trtype,
  leg,
});
const end = (
  Event: 'incoming' | 'outgoing',
  User: string,
  leg: number,
  Duration: string,
  Transfer: 'True' | 'False' = 'False',
): ThreeCxStep => ({
  Event,
  User,
  Finishtype: Duration ? 'Ok' : 'Missed',
  Transfer,
  Duration,
  leg,
});
const recording = (User: string, leg: number): ThreeCxStep => ({ Event: 'recording', User, leg });

export const THREE_CX_SCENARIOS: Record<string, { title: string; direction: 'inbound' | 'outbound'; steps: ThreeCxStep[] }> = {
  'incoming-answered': {
    title: 'Incoming successful call',
    direction: 'inbound',
    steps: [
      ring('800', 'other'),
      ring('820', 'queue'),
      ring('202', 'ext'),
      pickup('202', 1),
      end('incoming', '202', 1, '00:06'),
      recording('202', 1),
    ],
  },
  'incoming-attended-transfer': {
    title: 'Incoming successful attended transfer call',
    direction: 'inbound',
    steps: [
      ring('800', 'other'),
      ring('820', 'queue'),
      ring('117', 'ext'),
      pickup('117', 1),
      pickup('204', 2, 'Attended'),
      ring('204', 'ext', 1),
      end('incoming', '117', 1, '00:14', 'True'),
      end('incoming', '204', 2, '00:06'),
      recording('204', 2),
      recording('117', 1),
    ],
  },
  'incoming-blind-transfer': {
    title: 'Incoming successful blind transfer call',
    direction: 'inbound',
    steps: [
      ring('800', 'other'),
      ring('820', 'queue'),
      ring('117', 'ext'),
      pickup('117', 1),
      ring('204', 'ext', 1),
      pickup('204', 2, 'Blind'),
      end('incoming', '204', 2, '00:04'),
      recording('204', 2),
      recording('117', 1),
    ],
  },
  'incoming-missed': {
    title: 'Incoming missed call',
    direction: 'inbound',
    steps: [ring('800', 'other'), ring('820', 'queue'), ring('202', 'ext'), end('incoming', '820', 0, '')],
  },
  'ringgroup-hunt-answered': {
    title: 'Incoming successful Ring Group call (Prioritized Hunt)',
    direction: 'inbound',
    steps: [ring('800', 'other'), ring('117', 'ext'), pickup('117', 1), end('incoming', '117', 1, '00:04'), recording('117', 1)],
  },
  'ringgroup-hunt-missed': {
    title: 'Incoming missed Ring Group call (Prioritized Hunt)',
    direction: 'inbound',
    steps: [ring('800', 'other'), ring('117', 'ext'), end('incoming', '117', 0, '')],
  },
  'ringgroup-ringall-answered': {
    title: 'Incoming successful Ring Group call (RingAll)',
    direction: 'inbound',
    steps: [
      ring('800', 'other'),
      ring('117', 'ext'),
      ring('204', 'ext'),
      pickup('117', 1),
      end('incoming', '117', 1, '00:05'),
      recording('117', 1),
    ],
  },
  'ringgroup-ringall-missed': {
    title: 'Incoming missed Ring Group call (RingAll)',
    direction: 'inbound',
    steps: [ring('800', 'other'), ring('117', 'ext'), ring('204', 'ext'), end('incoming', '204', 0, '')],
  },
  'outgoing-answered': {
    title: 'Outgoing successful call',
    direction: 'outbound',
    steps: [
      { Event: 'dialing', User: '117', leg: 0 },
      { Event: 'outgoingcall_started', User: '117', Trtype: 'NotDef', leg: 1 },
      end('outgoing', '117', 1, '00:05'),
      recording('117', 1),
    ],
  },
  'outgoing-unanswered': {
    title: 'Outgoing unsuccessful call',
    direction: 'outbound',
    steps: [{ Event: 'dialing', User: '117', leg: 0 }, end('outgoing', '117', 0, '')],
  },
  'makecall-answered': {
    title: 'MakeCall successful call',
    direction: 'outbound',
    steps: [
      { Event: 'dialing', User: '117', leg: 0 },
      { Event: 'outgoingcall_started', User: '117', Trtype: 'NotDef', leg: 1, makecall: true },
      end('outgoing', '117', 1, '00:04'),
      recording('117', 1),
    ],
  },
  'makecall-extension-hangup': {
    title: 'MakeCall successful call (extension hangs up)',
    direction: 'outbound',
    steps: [{ Event: 'dialing', User: '117', leg: 0 }, end('outgoing', '117', 0, '')],
  },
};

/** GET-scheme names for the answer events, as the vendor document shows them. */
export const GET_SCHEME_EVENT: Record<string, string> = {
  incomingcall_started: 'hangupincoming',
  outgoingcall_started: 'hangupoutgoing',
};

/** Creomate's names for the answer events (creomate.com "3CX CRM bundle" / "3CX dialer bundle"). */
export const CREOMATE_EVENT: Record<string, string> = {
  incomingcall_started: 'pickupincoming',
  outgoingcall_started: 'pickupoutgoing',
};

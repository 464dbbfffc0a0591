import { fieldsOf, talkSeconds, text } from '../../core/fields';
import { lookupTable } from '../../core/lookup';
import { WebhookPayloadError } from '../../core/provider';
import type { CallEvent, CallEventName, Direction, Outcome, WebhookInput } from '../../core/types';
import { cdrRecordingUrl } from './recording-url';

/** Extension call-status callback `status` → event. */
const STATUS_EVENTS = lookupTable<CallEventName>({ ring: 'ringing', answer: 'answered', hangup: 'hangup' });

/** `method` 1: one extension dialled another. */
const METHOD_EXTENSION_TO_EXTENSION = '1';

/** Fields only the CDR callback carries (older accounts: `downloadip` + `recordfilename`, no `recordurl`). */
const CDR_FIELDS = [
  'billsec',
  'endtime',
  'answertime',
  'hangupcause',
  'hangupdirection',
  'recordurl',
  'recordfilename',
  'downloadip',
  'callmethod',
];

/**
 * Normalizes one delivery of either callback the call center sends (SPEC section 5):
 * the extension call-status callback (`status` ring / answer / hangup) and the CDR callback
 * (→ `recording` when the call was recorded: `recordurl`, or `downloadip` + `recordfilename` from
 * older accounts). `customuuid` comes back as `reference`.
 */
export function normalizeCallCenterWebhook(input: WebhookInput): CallEvent[] {
  if (typeof input.body === 'string') throw new WebhookPayloadError('call-center callback is not a JSON object');
  const f = fieldsOf(input);
  const callId = text(f.uuid);
  if (!callId) throw new WebhookPayloadError('call-center callback without a uuid');
  const status = text(f.status)?.toLowerCase();
  if (status !== undefined) return callStatusEvent(f, callId, status, input.receivedAt);
  if (CDR_FIELDS.some((k) => f[k] !== undefined)) return cdrEvent(f, callId, input.receivedAt);
  throw new WebhookPayloadError('call-center callback is neither a call-status nor a CDR callback');
}

function callStatusEvent(f: Record<string, unknown>, callId: string, status: string, receivedAt: Date): CallEvent[] {
  const type = text(f.type)?.toLowerCase();
  const event = STATUS_EVENTS.get(status);
  if (!event || (type !== undefined && type !== 'call')) return [];
  const out: CallEvent = {
    event,
    provider: 'cloud-callcenter',
    providerEvent: status,
    callId,
    direction: directionOf(text(f.direction), text(f.method)),
    // `starttime` is when the call started; later callbacks of the call may repeat it
    // [unverified], so only a ring takes its time from it, answer and hangup from their arrival.
    timestamp: (event === 'ringing' ? unixTime(text(f.starttime)) : undefined) ?? receivedAt.toISOString(),
  };
  const legId = text(f.buuid);
  if (legId) out.legId = legId;
  const reference = text(f.customuuid);
  if (reference) out.reference = reference;
  const extension = text(f.extnumber);
  if (extension) {
    out.extension = extension;
    out.extensionType = 'extension';
  }
  const from = text(f.caller);
  const to = text(f.callee);
  if (from) out.from = from;
  if (to) out.to = to;
  // The company number on the call: the DID dialled in, or the caller id shown on the way out.
  const did = text(f.disnumber);
  if (did) out.did = did;
  if (event === 'hangup') {
    // The callback does not say whether the call was answered: 'unknown' lets the call tracker
    // decide from the call's own events (answered when it saw an answer, else missed).
    out.outcome = outcomeHint(f) ?? 'unknown';
    const cause = text(f.hangupcause);
    if (cause) out.hangupCause = cause;
  }
  return [out];
}

function cdrEvent(f: Record<string, unknown>, callId: string, receivedAt: Date): CallEvent[] {
  const url = cdrRecordingUrl(f);
  // A CDR without a recording (a missed call, recording off) carries no event of its own.
  if (!url) return [];
  const out: CallEvent = {
    event: 'recording',
    provider: 'cloud-callcenter',
    providerEvent: 'cdr',
    callId,
    // Newer CDRs name the direction; older ones only in `type` ("callout").
    direction: directionOf(text(f.direction) ?? text(f.type), text(f.callmethod)),
    recordingUrls: [url],
    timestamp: unixTime(text(f.endtime)) ?? receivedAt.toISOString(),
  };
  const reference = text(f.customuuid);
  if (reference) out.reference = reference;
  const billsec = seconds(text(f.billsec));
  if (billsec !== undefined) out.durationSeconds = billsec;
  const cause = text(f.hangupcause);
  if (cause) out.hangupCause = cause;
  const extension = text(f.extnumber);
  if (extension) {
    out.extension = extension;
    out.extensionType = 'extension';
  }
  const to = text(f.destnumber);
  if (to) out.to = to;
  const did = text(f.disnumber);
  if (did) out.did = did;
  return [out];
}

function directionOf(direction: string | undefined, method: string | undefined): Direction {
  if (method === METHOD_EXTENSION_TO_EXTENSION) return 'internal';
  // Named in the example ("callout", "callin"); the parameter table numbers them 1 in, 2 out.
  switch (direction?.toLowerCase()) {
    case 'callin':
    case 'in':
    case 'inbound':
    case '1':
      return 'inbound';
    case 'callout':
    case 'out':
    case 'outbound':
    case '2':
      return 'outbound';
    default:
      return 'unknown';
  }
}

/** Talk time on a hangup callback, should the call center add it; undefined when it says nothing. */
function outcomeHint(f: Record<string, unknown>): Outcome | undefined {
  const billsec = seconds(text(f.billsec));
  if (billsec !== undefined) return billsec > 0 ? 'answered' : 'missed';
  const answered = text(f.answertime);
  if (answered !== undefined) return answered === '0' ? 'missed' : 'answered';
  return undefined;
}

/** Unix seconds (as text) → ISO 8601; anything else → undefined. */
function unixTime(value: string | undefined): string | undefined {
  if (!value || !/^\d{9,11}$/.test(value)) return undefined;
  return new Date(Number(value) * 1000).toISOString();
}

function seconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) return undefined;
  return talkSeconds(Math.round(Number(value)));
}

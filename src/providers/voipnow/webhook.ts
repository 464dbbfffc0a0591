import { fieldsOf, talkSeconds, text } from '../../core/fields';
import { lookupTable } from '../../core/lookup';
import { WebhookPayloadError } from '../../core/provider';
import type { CallEvent, CallEventName, Outcome, WebhookInput } from '../../core/types';
import { extensionNumber } from './extension';

/** The Call Event types, named as the `?event=` parameter of their callback URL carries them. */
export const CALL_EVENT_TYPES = ['dial-in', 'dial-out', 'answer-incoming', 'answer-outgoing', 'hangup'] as const;
export type CallEventType = (typeof CALL_EVENT_TYPES)[number];

type Side = 'inbound' | 'outbound';
interface MappedType {
  name: string;
  event: CallEventName;
  side?: Side;
}

const DIAL_IN: MappedType = { name: 'dial-in', event: 'ringing', side: 'inbound' };
const DIAL_OUT: MappedType = { name: 'dial-out', event: 'ringing', side: 'outbound' };
const ANSWER_INCOMING: MappedType = { name: 'answer-incoming', event: 'answered', side: 'inbound' };
const ANSWER_OUTGOING: MappedType = { name: 'answer-outgoing', event: 'answered', side: 'outbound' };

/**
 * Event type, as `typeKey` reduces it → normalized event and the side of the call the extension
 * is on. The spellings are those of the `?event=` URLs, of VoipNow's extension page ("Answer on
 * incoming call", "Answer on outgoing call (by the other party)") and of senders that put the type
 * in the payload (`EventType`: `dial-in`, `dial-out`, `answer`, `hangup`). `answer` has no side:
 * `CallFlow` gives it. Anything else (`call_interactive`, `message-in`, `voicemail`, ...) is not
 * call state and is not mapped.
 */
const TYPES = lookupTable<MappedType>({
  dialin: DIAL_IN,
  dialout: DIAL_OUT,
  answerincoming: ANSWER_INCOMING,
  answerincomingcall: ANSWER_INCOMING,
  answeronincomingcall: ANSWER_INCOMING,
  answeroutgoing: ANSWER_OUTGOING,
  answeroutgoingcall: ANSWER_OUTGOING,
  answeronoutgoingcall: ANSWER_OUTGOING,
  answeronoutgoingcallbytheotherparty: ANSWER_OUTGOING,
  answer: { name: 'answer', event: 'answered' },
  hangup: { name: 'hangup', event: 'hangup' },
});

/**
 * Hangup `CallStatus`, as `statusKey` reduces it → outcome. VoipNow 3 documents ANSWER and UNKNOWN,
 * later versions ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION and CHANUNAVAIL (the dial statuses of
 * the PBX underneath). Any other status on a hangup is a failure; an absent one reads as UNKNOWN.
 */
const HANGUP_OUTCOMES = lookupTable<Outcome>({
  ANSWER: 'answered',
  BUSY: 'busy',
  NOANSWER: 'missed',
  CANCEL: 'missed',
  UNKNOWN: 'missed',
  CONGESTION: 'failed',
  CHANUNAVAIL: 'failed',
});

/** `CallFlow` values naming an internal call, should a PBX send one (the documented ones are IN / OUT). */
const INTERNAL_FLOWS = new Set(['INTERNAL', 'LOCAL', 'INT']);

/** A type as the tables name it: lower case, letters and digits only (`Dial-In`, `dial_in` → `dialin`). */
const typeKey = (type: string): string => type.toLowerCase().replace(/[^a-z0-9]+/g, '');
/** A status as the tables name it: upper case, letters and digits only (`No Answer` → `NOANSWER`). */
const statusKey = (status: string): string => status.toUpperCase().replace(/[^A-Z0-9]+/g, '');

/**
 * Normalizes one VoipNow Call Event (GET query or POST form; SPEC section 5).
 *
 * - Type: `?event=` (`dial-in`, `Dial-In`, `Answer incoming`, ...), else the payload's `EventType`
 *   (`dial-in`, `dial-out`, `answer`, `hangup`, ...), else inferred from `CallStatus`: CALLING →
 *   ringing, a hangup status (ANSWER, BUSY, NOANSWER, ...) → hangup. A type that is given but not
 *   call state (an interactive routing request, a message) gives no event, whatever its status.
 *   Inference cannot tell an answer from a hangup (both may say ANSWER), which is why every callback
 *   URL should carry its `?event=` unless the sender names the type; `providerEvent` shows which
 *   way was used: the type (`dial-in`) or `inferred:<CallStatus>`.
 * - Direction: from the type (dial-in / answer-incoming inbound, dial-out / answer-outgoing
 *   outbound), else from `CallFlow` IN / OUT. A call is `internal` when both `CallerExtension` and
 *   `CalledExtension` are set and no `CalledDID` is (one extension calling another: no trunk, no
 *   DID), or when `CallFlow` itself says internal. The side still picks the extension.
 * - `extension`: `CalledExtension` on the inbound side, `CallerExtension` on the outbound side, as
 *   `extensionNumber` normalizes it (`3515*101@host` → `3515*101`). `from` / `to` as sent.
 * - Hangup: outcome from `CallStatus` (HANGUP_OUTCOMES); `Duration`, where sent, → `durationSeconds`.
 */
export function normalizeVoipNowWebhook(input: WebhookInput): CallEvent[] {
  const f = fieldsOf(input);
  const type = text(f.event) ?? text(f.eventtype);
  const callStatus = text(f.callstatus);
  let mapped: MappedType | undefined;
  if (type) {
    // A type this package does not map (not call state, or a newer VoipNow event) is ignored, not an error.
    mapped = TYPES.get(typeKey(type));
    if (!mapped) return [];
  } else if (callStatus) {
    const key = statusKey(callStatus);
    if (key === 'CALLING') mapped = { name: 'inferred:CALLING', event: 'ringing' };
    else if (HANGUP_OUTCOMES.has(key)) mapped = { name: `inferred:${key}`, event: 'hangup' };
  }

  const callId = text(f.callid);
  if (!callId) throw new WebhookPayloadError('VoipNow Call Event without a CallID');
  if (!mapped) return [];

  const flow = text(f.callflow)?.toUpperCase();
  const side: Side | undefined = mapped.side ?? (flow === 'IN' ? 'inbound' : flow === 'OUT' ? 'outbound' : undefined);
  const callerExtension = extensionNumber(text(f.callerextension));
  const calledExtension = extensionNumber(text(f.calledextension));
  const did = text(f.calleddid);
  const internal = (flow !== undefined && INTERNAL_FLOWS.has(flow)) || (!!callerExtension && !!calledExtension && !did);

  const event: CallEvent = {
    event: mapped.event,
    provider: 'voipnow',
    providerEvent: mapped.name,
    callId,
    direction: internal ? 'internal' : (side ?? 'unknown'),
    timestamp: input.receivedAt.toISOString(),
  };
  const extension = side === 'inbound' ? calledExtension : side === 'outbound' ? callerExtension : (calledExtension ?? callerExtension);
  if (extension) {
    event.extension = extension;
    event.extensionType = 'extension';
  }
  const from = text(f.calleridnum);
  const to = text(f.callednumber);
  if (from) event.from = from;
  if (to) event.to = to;
  if (did) event.did = did;
  if (mapped.event === 'hangup') {
    event.outcome = HANGUP_OUTCOMES.get(statusKey(callStatus ?? 'UNKNOWN')) ?? 'failed';
    const duration = durationOf(text(f.duration));
    if (duration !== undefined) event.durationSeconds = duration;
  }
  return [event];
}

/**
 * `Duration` as seconds: a plain number (`42`, `7.5`) or a clock (`mm:ss`, `h:mm:ss`), within
 * EVENT_LIMITS (`talkSeconds`); anything else is dropped.
 */
function durationOf(value: string | undefined): number | undefined {
  if (value === undefined || value.length > 32) return undefined;
  if (/^\d+(?:\.\d+)?$/.test(value)) return talkSeconds(Number(value));
  const clock = /^(?:(\d+):)?(\d{1,2}):(\d{2})$/.exec(value);
  if (!clock) return undefined;
  return talkSeconds(Number(clock[1] ?? 0) * 3600 + Number(clock[2]) * 60 + Number(clock[3]));
}

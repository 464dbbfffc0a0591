import { fieldsOf, text } from '../../core/fields';
import { lookupTable } from '../../core/lookup';
import { WebhookPayloadError } from '../../core/provider';
import type { CallEvent, CallEventName, WebhookInput } from '../../core/types';

/** The Call Event types, named as the `?event=` parameter of their callback URL carries them. */
export const CALL_EVENT_TYPES = ['dial-in', 'dial-out', 'answer-incoming', 'answer-outgoing', 'hangup'] as const;
export type CallEventType = (typeof CALL_EVENT_TYPES)[number];

type Side = 'inbound' | 'outbound';

/** Event type → normalized event and the side of the call the extension is on. */
const TYPES = lookupTable<{ name: string; event: CallEventName; side?: Side }>({
  dialin: { name: 'dial-in', event: 'ringing', side: 'inbound' },
  dialout: { name: 'dial-out', event: 'ringing', side: 'outbound' },
  answerincoming: { name: 'answer-incoming', event: 'answered', side: 'inbound' },
  answeroutgoing: { name: 'answer-outgoing', event: 'answered', side: 'outbound' },
  answer: { name: 'answer', event: 'answered' },
  hangup: { name: 'hangup', event: 'hangup' },
});

/** Without `?event=`: `CallStatus` CALLING is sent on dial, ANSWER / UNKNOWN on hangup. */
const INFERRED = lookupTable<CallEventName>({ CALLING: 'ringing', ANSWER: 'hangup', UNKNOWN: 'hangup' });

/** `CallFlow` values naming an internal call, should a PBX send one (the documented ones are IN / OUT). */
const INTERNAL_FLOWS = new Set(['INTERNAL', 'LOCAL', 'INT']);

/**
 * Normalizes one VoipNow Call Event (GET query or POST form; SPEC section 5).
 *
 * - Type: `?event=` (`dial-in`, `Dial-In`, `dial_in`, `Answer incoming`, ...), else inferred from
 *   `CallStatus`. Inference cannot tell an answer from a hangup (both may say ANSWER), which is why
 *   every callback URL should carry its `?event=`; `providerEvent` shows which way was used:
 *   the type (`dial-in`) or `inferred:<CallStatus>`.
 * - Direction: from the type (dial-in / answer-incoming inbound, dial-out / answer-outgoing
 *   outbound), else from `CallFlow` IN / OUT. A call is `internal` when both `CallerExtension` and
 *   `CalledExtension` are set and no `CalledDID` is (one extension calling another: no trunk, no
 *   DID), or when `CallFlow` itself says internal. The side still picks the extension.
 * - `extension`: `CalledExtension` on the inbound side, `CallerExtension` on the outbound side.
 * - Hangup outcome: `CallStatus` ANSWER → answered, anything else → missed.
 */
export function normalizeVoipNowWebhook(input: WebhookInput): CallEvent[] {
  const f = fieldsOf(input);
  const typeParam = text(f.event);
  const callStatus = text(f.callstatus)?.toUpperCase();
  let mapped: { name: string; event: CallEventName; side?: Side } | undefined;
  if (typeParam) {
    // A type this package does not map (a newer VoipNow event) is ignored, not an error.
    mapped = TYPES.get(typeParam.toLowerCase().replace(/[\s_-]+/g, ''));
    if (!mapped) return [];
  } else {
    const inferred = callStatus ? INFERRED.get(callStatus) : undefined;
    if (inferred) mapped = { name: `inferred:${callStatus}`, event: inferred };
  }

  const callId = text(f.callid);
  if (!callId) throw new WebhookPayloadError('VoipNow Call Event without a CallID');
  if (!mapped) return [];

  const flow = text(f.callflow)?.toUpperCase();
  const side: Side | undefined = mapped.side ?? (flow === 'IN' ? 'inbound' : flow === 'OUT' ? 'outbound' : undefined);
  const callerExtension = text(f.callerextension);
  const calledExtension = text(f.calledextension);
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
  if (mapped.event === 'hangup') event.outcome = callStatus === 'ANSWER' ? 'answered' : 'missed';
  return [event];
}

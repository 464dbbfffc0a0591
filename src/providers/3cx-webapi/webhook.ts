import { WebhookPayloadError } from '../../core/provider';
import { fieldsOf, talkSeconds, text } from '../../core/fields';
import { lookupTable } from '../../core/lookup';
import type { CallEvent, CallEventName, Direction, ExtensionType, Outcome, TransferKind, WebhookInput } from '../../core/types';

/** 3CX WebAPI event names (POST and GET schemes) → normalized event and direction. */
const EVENT_MAP = lookupTable<{ event: CallEventName; direction: Direction }>({
  ringing: { event: 'ringing', direction: 'inbound' },
  dialing: { event: 'ringing', direction: 'outbound' },
  incomingcall_started: { event: 'answered', direction: 'inbound' },
  hangupincoming: { event: 'answered', direction: 'inbound' },
  pickupincoming: { event: 'answered', direction: 'inbound' },
  outgoingcall_started: { event: 'answered', direction: 'outbound' },
  hangupoutgoing: { event: 'answered', direction: 'outbound' },
  pickupoutgoing: { event: 'answered', direction: 'outbound' },
  incoming: { event: 'hangup', direction: 'inbound' },
  outgoing: { event: 'hangup', direction: 'outbound' },
  recording: { event: 'recording', direction: 'unknown' },
});

const USER_TYPES = lookupTable<ExtensionType>({ ext: 'extension', queue: 'queue', other: 'ivr' });
const FINISH_TYPES = lookupTable<Outcome>({ ok: 'answered', missed: 'missed' });
/** `Trtype`: K2M documents `Attended`, Creomate `Accomp` (accompanied) for the same transfer. */
const TRANSFER_TYPES = lookupTable<TransferKind>({ blind: 'blind', attended: 'attended', accomp: 'attended' });

/** Normalizes one 3CX WebAPI webhook delivery (SPEC section 5). */
export function normalize3cxWebhook(input: WebhookInput): CallEvent[] {
  const timestamp = input.receivedAt.toISOString();
  const bareUrl = bareRecordingUrl(input);
  if (bareUrl) return [recordingFromUrl(bareUrl, timestamp)];

  const f = fieldsOf(input);
  const providerEvent = text(f.event);
  if (!providerEvent) throw new WebhookPayloadError('3CX webhook without an Event field');
  const mapped = EVENT_MAP.get(providerEvent.toLowerCase());
  if (!mapped) return [];

  const legId = text(f.id);
  // Creomate's `chid` names the whole call chain, and is what its makecall answers.
  const chid = text(f.chid);
  const callId = chid ?? (legId ? callIdOf(legId) : undefined);
  if (!callId) throw new WebhookPayloadError(`3CX ${providerEvent} webhook without a call Id`);
  const user = text(f.user);
  const callerId = text(f.callerid);
  const usertype = text(f.usertype)?.toLowerCase();

  const event: CallEvent = {
    event: mapped.event,
    provider: '3cx-webapi',
    providerEvent,
    callId,
    direction: mapped.direction,
    timestamp,
  };
  if (legId) event.legId = legId;
  if (user) event.extension = user;
  const extensionType = usertype ? (USER_TYPES.get(usertype) ?? 'other') : defaultExtensionType(mapped.event, user);
  if (extensionType) event.extensionType = extensionType;
  const party = callerId && callerId.toUpperCase() !== 'MAKECALL' ? callerId : undefined;
  if (mapped.direction === 'inbound') {
    // Creomate: `did` is the DID rule's name, `inbound_did` its number.
    const did = numberOf(f.inbound_did) ?? text(f.did);
    if (did) event.did = did;
    if (party) event.from = party;
    const to = did ?? user;
    if (to) event.to = to;
  } else if (mapped.direction === 'outbound') {
    // Creomate: `source_presentation` is the number the call goes out with.
    const did = numberOf(f.source_presentation) ?? text(f.did);
    if (did) event.did = did;
    if (user) event.from = user;
    if (party) event.to = party;
  } else {
    const did = text(f.did);
    if (did) event.did = did;
    if (party) event.from = party;
  }

  switch (mapped.event) {
    case 'answered': {
      const transfer = TRANSFER_TYPES.get(text(f.trtype)?.toLowerCase() ?? '');
      if (transfer) event.transfer = transfer;
      break;
    }
    case 'hangup': {
      event.outcome = FINISH_TYPES.get(text(f.finishtype)?.toLowerCase() ?? '') ?? 'unknown';
      const duration = parseDuration(text(f.duration)) ?? durationFromTitle(text(f.title));
      if (duration !== undefined) event.durationSeconds = duration;
      if (text(f.transfer)?.toLowerCase() === 'true') event.legTransferred = true;
      const cause = text(f.termination_reason_details);
      if (cause) event.hangupCause = cause;
      const files = urlList(f.files);
      // Creomate delivers the recording on a call-end event, sometimes after a first one without it.
      if (files.length) return [{ ...event, unlessEnded: true }, recordingOf(event, files)];
      break;
    }
    case 'recording': {
      const urls = urlList(f.fileurls ?? f.files);
      if (urls.length) event.recordingUrls = urls;
      break;
    }
  }
  return [event];
}

/** The recording a call-end event carries: the call's own fields, the URLs, no hangup details. */
function recordingOf(hangup: CallEvent, recordingUrls: string[]): CallEvent {
  const { outcome: _o, durationSeconds: _d, hangupCause: _c, legTransferred: _t, ...call } = hangup;
  return { ...call, event: 'recording', recordingUrls };
}

/** A phone number as text (digits, with an optional leading +), else undefined: not a rule name. */
function numberOf(value: unknown): string | undefined {
  const t = text(value);
  return t && /^\+?\d+$/.test(t) ? t : undefined;
}

/** `230307114903_10-1` → `230307114903_10`: the leg suffix changes as the call moves. */
function callIdOf(id: string): string {
  return id.replace(/-\d+$/, '');
}

function defaultExtensionType(event: CallEventName, user: string | undefined): ExtensionType | undefined {
  // Answer and dial events always name the extension; hangups may name a queue (missed call),
  // which the call tracker resolves from the route.
  if (!user) return undefined;
  return event === 'answered' || event === 'ringing' ? 'extension' : undefined;
}

/** "mm:ss" or "hh:mm:ss" → seconds; empty → undefined. */
function parseDuration(value: string | undefined): number | undefined {
  if (!value || !/^\d+(:\d{1,2}){1,2}$/.test(value.trim())) return undefined;
  return talkSeconds(
    value
      .trim()
      .split(':')
      .reduce((total, part) => total * 60 + Number(part), 0),
  );
}

/** GET scheme: `title=...Answered call from 420774852629 (0:07)`. */
function durationFromTitle(title: string | undefined): number | undefined {
  const m = title ? /\((\d+(?::\d{1,2}){1,2})\)\s*$/.exec(title) : null;
  return m ? parseDuration(m[1]) : undefined;
}

function urlList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  // Only text: an object (even one without a prototype) is no URL.
  return items.map((v) => (typeof v === 'string' ? cleanUrl(v) : undefined)).filter((u): u is string => u !== undefined);
}

function cleanUrl(raw: string): string | undefined {
  const u = trimQuotes(raw);
  return /^https?:\/\/\S+$/i.test(u) ? u : undefined;
}

const QUOTES = new Set(["'", '"', '‘', '’', '“', '”']);
const isQuoteOrSpace = (c: string) => QUOTES.has(c) || /\s/.test(c);

/**
 * Strips spaces and quotes around a URL. A loop, not a regular expression: `[\s"]+$` retries at
 * every character of a long run of spaces inside the text, which took seconds for 64 KiB.
 */
function trimQuotes(raw: string): string {
  let start = 0;
  let end = raw.length;
  while (start < end && isQuoteOrSpace(raw[start])) start++;
  while (end > start && isQuoteOrSpace(raw[end - 1])) end--;
  return raw.slice(start, end);
}

/** The GET scheme may deliver a recording as nothing but its URL (query string or body). */
function bareRecordingUrl(input: WebhookInput): string | undefined {
  if (typeof input.body === 'string') {
    const fromBody = cleanUrl(input.body);
    if (fromBody) return fromBody;
  }
  if (input.rawQuery && !/(^|&)event=/i.test(input.rawQuery)) {
    let decoded = input.rawQuery;
    try {
      decoded = decodeURIComponent(input.rawQuery.replace(/\+/g, ' '));
    } catch {
      // keep it as it came
    }
    const fromQuery = cleanUrl(decoded.replace(/^(url|fileurl|fileurls)=/i, '').replace(/=$/, ''));
    if (fromQuery) return fromQuery;
  }
  return undefined;
}

function recordingFromUrl(url: string, timestamp: string): CallEvent {
  // .../recording/230102185935_18-1-1.mp3 → leg 230102185935_18-1
  const file = url.split('/').pop() ?? '';
  const legId = file.replace(/\.[a-z0-9]+$/i, '').replace(/-\d+$/, '');
  if (!/_\d+/.test(legId)) throw new WebhookPayloadError('3CX recording URL without a call id in its file name');
  return {
    event: 'recording',
    provider: '3cx-webapi',
    providerEvent: 'recording',
    callId: callIdOf(legId),
    legId,
    direction: 'unknown',
    recordingUrls: [url],
    timestamp,
  };
}

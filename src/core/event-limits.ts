import { createHash } from 'node:crypto';
import type { CallEvent } from './types';

/**
 * Sizes of what one call event may carry. Every event passes `limitEvent` in CallTracker.apply,
 * so both what the tracker keeps and what pbx-event emits are bounded, whatever a webhook held
 * (up to 64 KiB per field). Real ids, numbers and URLs are far below these.
 */
export const EVENT_LIMITS = {
  /**
   * callId, legId, reference. A longer id becomes its first characters, '…' and a hash of the
   * whole id: the same id always gives the same short one and distinct ids stay distinct.
   */
  idLength: 256,
  /** extension, from, to, did, hangupCause, providerEvent, timestamp: cut, ending in '…'. */
  textLength: 256,
  /** A recording URL longer than this is dropped: a cut URL would point somewhere else. */
  urlLength: 2048,
  /** Recording URLs of one event: the first ones are kept. */
  recordingUrls: 16,
  /**
   * Longest talk time taken from a webhook, in seconds (31 days); a duration that is not a finite
   * number from 0 to this is dropped, so a call's sum of legs stays a finite number.
   */
  durationSeconds: 31 * 24 * 3600,
} as const;

const ID_FIELDS = ['callId', 'legId', 'reference'] as const;
const TEXT_FIELDS = ['extension', 'from', 'to', 'did', 'hangupCause', 'providerEvent', 'timestamp'] as const;
const HASH_LENGTH = 43; // SHA-256 in base64url

/**
 * `event` with every string within EVENT_LIMITS, each an own copy (see `ownCopy`), so the tracker
 * can keep them without keeping the webhook's text alive. `call` is left out: the tracker sets it.
 */
export function limitEvent(event: CallEvent): CallEvent {
  const out: CallEvent = { ...event };
  for (const key of ID_FIELDS) {
    const value = out[key];
    if (value !== undefined) out[key] = ownCopy(value.length > EVENT_LIMITS.idLength ? shortId(value) : value);
  }
  for (const key of TEXT_FIELDS) {
    const value = out[key];
    if (value !== undefined) out[key] = ownCopy(value.length > EVENT_LIMITS.textLength ? cut(value, EVENT_LIMITS.textLength) : value);
  }
  const d = out.durationSeconds;
  if (d !== undefined && !(Number.isFinite(d) && d >= 0 && d <= EVENT_LIMITS.durationSeconds)) delete out.durationSeconds;
  if (out.recordingUrls) {
    const urls = out.recordingUrls
      .filter((u) => u.length <= EVENT_LIMITS.urlLength)
      .slice(0, EVENT_LIMITS.recordingUrls)
      .map(ownCopy);
    if (urls.length) out.recordingUrls = urls;
    else delete out.recordingUrls;
  }
  return out;
}

function shortId(id: string): string {
  const hash = createHash('sha256').update(id).digest('base64url');
  return `${prefix(id, EVENT_LIMITS.idLength - 1 - HASH_LENGTH)}…${hash}`;
}

/** `text` cut to `length` characters, the last one '…'. */
function cut(text: string, length: number): string {
  return `${prefix(text, length - 1)}…`;
}

/** The first `length` UTF-16 units of `text`, one fewer when that would split a surrogate pair. */
function prefix(text: string, length: number): string {
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}

/**
 * A copy of `text` that shares no memory with the string it came from. V8 returns a slice of a
 * long string (`slice`, `trim`, a regular expression's match) as a view that keeps the whole
 * original alive: 200 characters trimmed from a 60 KiB field hold 60 KiB. Concatenating makes V8
 * flatten into a new string, of which the slice keeps only `text.length + 1` characters.
 */
function ownCopy(text: string): string {
  return `${text} `.slice(0, -1);
}

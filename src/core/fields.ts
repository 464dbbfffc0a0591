import { EVENT_LIMITS } from './event-limits';
import type { WebhookInput } from './types';

/**
 * Query and body fields of a webhook in one prototype-free map with lower-case keys, so
 * `Event`, `event` and `EVENT` read the same. Of one key repeated (in any letter case) the first
 * one counts; body fields win over query fields.
 */
export function fieldsOf(input: WebhookInput): Record<string, unknown> {
  const query: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(input.query)) {
    const key = k.toLowerCase();
    if (!(key in query)) query[key] = v;
  }
  if (!isRecord(input.body)) return query;
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(input.body)) {
    const key = k.toLowerCase();
    if (!(key in out)) out[key] = v;
  }
  for (const key in query) if (!(key in out)) out[key] = query[key];
  return out;
}

/** A field as trimmed text; numbers and booleans become text; empty, objects and arrays → undefined. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const t = value.trim();
    return t === '' ? undefined : t;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** `text(value)`, or '' where it has none: for building results where every field is a string. */
export function stringOf(value: unknown): string {
  return text(value) ?? '';
}

/** A JSON object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` when it is a JSON object, else an empty one, so its fields can be read either way. */
export function recordOf(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/** A talk time in seconds as an event may carry it: a finite number from 0 to 31 days, else undefined. */
export function talkSeconds(seconds: number): number | undefined {
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= EVENT_LIMITS.durationSeconds ? seconds : undefined;
}

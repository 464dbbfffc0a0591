/**
 * Phone numbers compared on their digits, so that the national and international forms of one
 * number (`+44 20 7946 0018`, `0044 20 7946 0018`, `020 7946 0018`, `442079460018`) are the same
 * caller, without a numbering-plan table:
 * 1. A SIP or tel URI gives its user part (`sip:02079460018@10.0.0.5` → `02079460018`).
 * 2. A `(0)` (the trunk prefix some write inside an international number) and then everything
 *    but the digits are dropped. A leading `+` or `00` marks the number international
 *    and is dropped; else a single leading `0` (the trunk prefix of national dialling) is dropped.
 *    What remains are the number's significant digits.
 * 3. Two numbers match when their significant digits are equal, or, unless both are marked
 *    international, when the shorter has at least MIN_SUFFIX_DIGITS digits and the longer is it
 *    with at most MAX_COUNTRY_CODE_DIGITS more in front (a country code).
 * A text that is no phone number (no digits, fewer than MIN_NUMBER_DIGITS, only zeros, more than
 * MAX_NUMBER_DIGITS, `anonymous`, `unknown`) has none: such callers are not tracked.
 */

/** Fewer significant digits than this is no number (`0`, `00`, `12`). */
export const MIN_NUMBER_DIGITS = 3;
/** E.164 allows 15 digits; a few more for numbers written with an extra prefix. */
export const MAX_NUMBER_DIGITS = 18;
/** A text longer than this is no phone number as a PBX writes one. */
export const MAX_NUMBER_TEXT = 64;
/**
 * Shortest number matched by its end: a short number (an internal extension, `117`) matches only
 * itself, never the last digits of a long one.
 */
export const MIN_SUFFIX_DIGITS = 8;
/** Country codes have 1 to 3 digits. */
export const MAX_COUNTRY_CODE_DIGITS = 3;

export interface PhoneNumber {
  /** The significant digits: without international prefix (`+`, `00`) or trunk prefix (`0`). */
  digits: string;
  /** Written with `+` or `00`: the digits begin with a country code. */
  international: boolean;
}

/** The number in `text`, or undefined when it is none (see the module's comment). */
export function parsePhoneNumber(text: unknown): PhoneNumber | undefined {
  if (typeof text === 'number' && Number.isSafeInteger(text) && text > 0) text = String(text);
  if (typeof text !== 'string' || text.length > MAX_NUMBER_TEXT) return undefined;
  let s = text.trim();
  const uri = /^(?:sips?|tel):([^@;]*)/i.exec(s);
  if (uri) s = uri[1];
  const plus = /^[\s(]*\+/.test(s);
  let digits = s.replace(/\(\s*0\s*\)/g, '').replace(/\D/g, '');
  let international = plus;
  if (!plus && digits.startsWith('00')) {
    digits = digits.slice(2);
    international = true;
  } else if (!plus && digits.startsWith('0')) {
    digits = digits.slice(1);
  }
  if (digits.length < MIN_NUMBER_DIGITS || digits.length > MAX_NUMBER_DIGITS || /^0+$/.test(digits)) return undefined;
  return { digits, international };
}

/**
 * How closely `a` and `b` match: 0 for the same significant digits, else the number of country-code
 * digits one has in front of the other; undefined when they are different numbers.
 */
export function matchDistance(a: PhoneNumber, b: PhoneNumber): number | undefined {
  if (a.digits === b.digits) return 0;
  if (a.international && b.international) return undefined;
  const [shorter, longer] = a.digits.length < b.digits.length ? [a.digits, b.digits] : [b.digits, a.digits];
  const extra = longer.length - shorter.length;
  if (shorter.length < MIN_SUFFIX_DIGITS || extra > MAX_COUNTRY_CODE_DIGITS || !longer.endsWith(shorter)) return undefined;
  return extra;
}

export function sameNumber(a: PhoneNumber, b: PhoneNumber): boolean {
  return matchDistance(a, b) !== undefined;
}

/**
 * A key that every number matching `n` shares (its last MIN_SUFFIX_DIGITS significant digits, or
 * all of them when it has fewer): numbers are grouped by it, and match only within a group.
 */
export function matchKey(n: PhoneNumber): string {
  return n.digits.slice(-MIN_SUFFIX_DIGITS);
}

/**
 * Parses JSON; when that fails, repairs the defects vendor documentation is known to show and tries
 * again: a string value missing its opening quote (`"Callerid": 05551239988"`, the 3CX WebAPI
 * documentation) and members on separate lines without the comma between them (`"extnumber": "7003"`
 * newline `"uuid": "..."`, the cloud call center's CDR examples). A repair only adds quotes around
 * text that is there and commas between members that are there: it never makes up a field or a value.
 * Returns undefined when the text is not JSON even after repair.
 */
export function repairJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // fall through to the repairs
  }
  const withCommas = insertMissingCommas(text);
  const withQuotes = quoteHalfQuotedValues(text);
  // Each defect alone first, then both, in either order: a half-quoted value makes the comma scan
  // see strings where there are none, and a missing comma makes a value look half-quoted.
  for (const candidate of [withCommas, withQuotes, insertMissingCommas(withQuotes), quoteHalfQuotedValues(withCommas)]) {
    if (candidate === text) continue;
    try {
      return JSON.parse(candidate);
    } catch {
      // try the next repair
    }
  }
  return undefined;
}

/**
 * Outside strings, inserts a comma where a complete value (a string, number, `true` / `false` /
 * `null`, `}` or `]`) is followed, after a line break, by the next member's `"key":`. Nothing else:
 * members on one line, array items and anything that is not followed by a key's colon stay as they
 * are (and so stay invalid). Valid JSON never has such a place, so it is returned unchanged.
 * Linear in the length of `text`: each string is looked ahead over at most once.
 */
export function insertMissingCommas(text: string): string {
  let out = '';
  let i = 0;
  /** The last character outside strings that was not whitespace ended a value. */
  let afterValue = false;
  /** A line break came since that character. */
  let lineBreak = false;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (afterValue && lineBreak && end < text.length && text[skipWhitespace(text, end + 1)] === ':') out += ',';
      out += text.slice(i, end + 1);
      i = end + 1;
      afterValue = true;
      lineBreak = false;
      continue;
    }
    out += c;
    i++;
    if (c === '\n' || c === '\r') lineBreak = true;
    else if (!/\s/.test(c)) {
      afterValue = /[\w}\]]/.test(c);
      lineBreak = false;
    }
  }
  return out;
}

/** Index of the quote closing the string that opens at `start`; `text.length` when it never closes. */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  return Math.min(j, text.length);
}

function skipWhitespace(text: string, from: number): number {
  let j = from;
  while (j < text.length && /\s/.test(text[j])) j++;
  return j;
}

/**
 * Outside strings, a value after ':' that does not open with a quote but ends with one gets its quote.
 * Linear in the length of `text`: the end of a value is searched once, however many ':' precede it
 * (a body of 64 KiB of ':' used to take tens of seconds).
 */
function quoteHalfQuotedValues(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  /** The first delimiter at or after the last value start searched from; valid while >= i. */
  let valueEnd = -1;
  while (i < text.length) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    out += c;
    i++;
    if (c === '"') {
      inString = true;
    } else if (c === ':') {
      while (i < text.length && /\s/.test(text[i])) out += text[i++];
      if (i < text.length && !/["{[]/.test(text[i])) {
        // No delimiter lies between the last search's start and its result, so a result at or
        // after i is also the first delimiter after i.
        if (valueEnd < i) valueEnd = nextDelimiter(text, i);
        if (text[valueEnd] === '"') {
          out += `"${text.slice(i, valueEnd)}"`;
          i = valueEnd + 1;
        }
      }
    }
  }
  return out;
}

/** Index of the first `,` `}` `]` or `"` at or after `from`; `text.length` when there is none. */
function nextDelimiter(text: string, from: number): number {
  let j = from;
  while (j < text.length && !/[,}\]"]/.test(text[j])) j++;
  return j;
}

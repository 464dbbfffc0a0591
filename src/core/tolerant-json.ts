/**
 * Parses JSON; when that fails, repairs the one defect vendor documentation is known to show —
 * a string value missing its opening quote (`"Callerid": 05551239988"`) — and tries again.
 * Returns undefined when the text is not JSON even after repair.
 */
export function repairJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // fall through to the repair
  }
  const repaired = quoteHalfQuotedValues(text);
  if (repaired === text) return undefined;
  try {
    return JSON.parse(repaired);
  } catch {
    return undefined;
  }
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

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

/** Outside strings, a value after ':' that does not open with a quote but ends with one gets its quote. */
function quoteHalfQuotedValues(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
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
        let j = i;
        while (j < text.length && !/[,}\]"]/.test(text[j])) j++;
        if (text[j] === '"') {
          out += `"${text.slice(i, j)}"`;
          i = j + 1;
        }
      }
    }
  }
  return out;
}

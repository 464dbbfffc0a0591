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
  const repaired = text.replace(/:(\s*)([^\s"{[\]},:][^",{}[\]]*?)"(\s*[,}\]])/g, ':$1"$2"$3');
  if (repaired === text) return undefined;
  try {
    return JSON.parse(repaired);
  } catch {
    return undefined;
  }
}

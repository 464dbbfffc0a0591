/**
 * Wraps a log function so it writes at most once per `everyMs`; the next line that gets through
 * says how many were held back. Keeps a flood of bad webhooks from flooding the log.
 */
export function rateLimited(log: (message: string) => void, everyMs = 10_000, now: () => number = Date.now): (message: string) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (message) => {
    const t = now();
    if (t - last < everyMs) {
      suppressed++;
      return;
    }
    last = t;
    log(suppressed ? `${message} (+${suppressed} more not shown)` : message);
    suppressed = 0;
  };
}

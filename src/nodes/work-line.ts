/**
 * Work a node runs one item after the other (its changes to the state store), so outputs keep the
 * order of the events and inputs that caused them. At most `max` items wait: past it `run`
 * refuses, and the caller says the store is too slow rather than piling work up.
 */
export class WorkLine {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly max: number) {}

  get pending(): number {
    return this.waiting;
  }

  /** Runs `work` after everything queued before it; undefined (not queued) while `max` items wait. */
  run<T>(work: () => Promise<T>): Promise<T> | undefined {
    if (this.waiting >= this.max) return undefined;
    this.waiting++;
    const result = this.tail.then(work).finally(() => this.waiting--);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once what is queued now has run, or after `timeoutMs` (each item has its own deadlines). */
  settled(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const guard = setTimeout(resolve, timeoutMs);
      void this.tail.then(() => {
        clearTimeout(guard);
        resolve();
      });
    });
  }
}

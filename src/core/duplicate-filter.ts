/**
 * Remembers fingerprints of recent webhook deliveries so an exact re-delivery within the
 * window is dropped. Bounded in count and in time.
 */
export class DuplicateFilter {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = 10 * 60 * 1000,
    private readonly maxEntries = 20000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when `fingerprint` was already seen inside the window; records it otherwise. */
  isDuplicate(fingerprint: string): boolean {
    const t = this.now();
    const at = this.seen.get(fingerprint);
    if (at !== undefined && t - at < this.windowMs) return true;
    this.seen.delete(fingerprint);
    this.seen.set(fingerprint, t);
    this.prune(t);
    return false;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(t: number): void {
    // Map keeps insertion order, so the oldest entries are first.
    for (const [key, at] of this.seen) {
      if (this.seen.size <= this.maxEntries && t - at < this.windowMs) break;
      this.seen.delete(key);
    }
  }
}

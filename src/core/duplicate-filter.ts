import { LruMap } from './lru';

/**
 * Remembers fingerprints of recent webhook deliveries so an exact re-delivery within the
 * window is dropped. Bounded in count and in time.
 */
export class DuplicateFilter {
  private readonly seen = new LruMap<string, number>();

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
    this.seen.set(fingerprint, t);
    this.prune(t);
    return false;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(t: number): void {
    for (let oldest = this.seen.oldest(); oldest; oldest = this.seen.oldest()) {
      if (this.seen.size <= this.maxEntries && t - oldest.value < this.windowMs) break;
      this.seen.delete(oldest.key);
    }
  }
}

interface Entry<K, V> {
  key: K;
  value: V;
  /** What the entry counts for in `totalWeight`, e.g. its estimated bytes. */
  weight: number;
  /** Toward the oldest. */
  older?: Entry<K, V>;
  /** Toward the newest. */
  newer?: Entry<K, V>;
}

/**
 * A map that keeps its keys in recency order (a doubly linked list beside a Map), so the bounded
 * caches on the webhook path touch and evict in O(1). A plain Map used as a queue is not O(1):
 * deleting its oldest entries leaves slots that every later iteration from the start skips again
 * until V8 rehashes, which made a full cache about ten times slower per event.
 *
 * Each entry may carry a weight (its estimated bytes), summed in `totalWeight`, so a cache can be
 * bounded in bytes as well as in entries.
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, Entry<K, V>>();
  private oldestEntry?: Entry<K, V>;
  private newestEntry?: Entry<K, V>;
  private weightSum = 0;

  get size(): number {
    return this.entries.size;
  }

  /** The sum of the entries' weights. */
  get totalWeight(): number {
    return this.weightSum;
  }

  /** The value, without changing the order. */
  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /**
   * Sets the value and makes `key` the newest. Without `weight` an entry keeps the weight it had
   * (a new one weighs 0).
   */
  set(key: K, value: V, weight?: number): void {
    let entry = this.entries.get(key);
    if (entry) {
      entry.value = value;
      this.unlink(entry);
    } else {
      entry = { key, value, weight: 0 };
      this.entries.set(key, entry);
    }
    if (weight !== undefined) {
      this.weightSum += weight - entry.weight;
      entry.weight = weight;
    }
    entry.older = this.newestEntry;
    entry.newer = undefined;
    if (this.newestEntry) this.newestEntry.newer = entry;
    this.newestEntry = entry;
    this.oldestEntry ??= entry;
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.unlink(entry);
    this.entries.delete(key);
    this.weightSum -= entry.weight;
    return true;
  }

  /** The least recently set entry. */
  oldest(): { key: K; value: V } | undefined {
    return this.oldestEntry;
  }

  /** Entries from the least to the most recently set; do not change the map while iterating. */
  *oldestFirst(): IterableIterator<[K, V]> {
    for (let entry = this.oldestEntry; entry; entry = entry.newer) yield [entry.key, entry.value];
  }

  clear(): void {
    this.entries.clear();
    this.oldestEntry = this.newestEntry = undefined;
    this.weightSum = 0;
  }

  private unlink(entry: Entry<K, V>): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldestEntry = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newestEntry = entry.older;
    entry.older = entry.newer = undefined;
  }
}

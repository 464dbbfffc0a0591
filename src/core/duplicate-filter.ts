import { createHash } from 'node:crypto';
import { LruMap } from './lru';

/** Bytes of one stored key: the SHA-256 digest of a fingerprint, held as a 32-character one-byte string. */
export const FINGERPRINT_KEY_BYTES = 32;

/**
 * Remembers fingerprints of recent webhook deliveries so an exact re-delivery within the
 * window is dropped. Bounded in count and in time.
 *
 * A fingerprint (method, query and body text: up to 64 KiB) is stored as its SHA-256 digest, so
 * each entry costs the same whatever the body: a 32-byte key, its timestamp and the map and list
 * slots around them, about 200 bytes in V8 (`npm run bench` measures it). At the default 20,000
 * entries that is about 4 MB; whole bodies as keys were up to 1.2 GB (2.4 GB as two-byte text).
 */
export class DuplicateFilter {
  /** Digest → when it was recorded; each entry weighs its key's length. */
  private readonly seen = new LruMap<string, number>();

  constructor(
    private readonly windowMs = 10 * 60 * 1000,
    private readonly maxEntries = 20000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when `fingerprint` was already seen inside the window; records it otherwise. */
  isDuplicate(fingerprint: string): boolean {
    const key = digestOf(fingerprint);
    const t = this.now();
    const at = this.seen.get(key);
    if (at !== undefined && t - at < this.windowMs) return true;
    this.seen.set(key, t, key.length);
    this.prune(t);
    return false;
  }

  get size(): number {
    return this.seen.size;
  }

  /** Bytes of the keys stored: `size` × FINGERPRINT_KEY_BYTES, whatever the fingerprints' length. */
  get keyBytes(): number {
    return this.seen.totalWeight;
  }

  private prune(t: number): void {
    for (let oldest = this.seen.oldest(); oldest; oldest = this.seen.oldest()) {
      if (this.seen.size <= this.maxEntries && t - oldest.value < this.windowMs) break;
      this.seen.delete(oldest.key);
    }
  }
}

/** 'binary' (latin1) maps each digest byte to one character, which V8 stores in one byte. */
function digestOf(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('binary');
}

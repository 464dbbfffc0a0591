import { TokenCache, type IssuedToken, type TokenCacheOptions, type TokenSource, type TokenSourceFactory } from './auth';
import type { Sealer } from './state/sealed';
import { isStoreError } from './state/errors';
import type { StateStore } from './state/types';

/** How long the instance renewing the token may hold the lock: a token request's own deadline is shorter. */
export const TOKEN_LOCK_MS = 30_000;
/** How long the other instances wait for that renewal before they fall back to a token of their own. */
export const TOKEN_WAIT_MS = 5_000;

interface StoredToken {
  token: string;
  /** When every instance should renew it, ms since the epoch. */
  renewAt: number;
}

export interface SharedTokenOptions {
  store: StateStore;
  /** Seals the token before it goes to the store: no token is stored in plain text. */
  sealer: Sealer;
  /** Tells this account's tokens apart from another kind the same account may have. */
  name?: string;
  now?: () => number;
}

/**
 * One token for every instance of a cluster (SPEC section 8): kept sealed in the shared store;
 * one instance renews it under a short lock while the others wait for it, and a token refused by
 * the provider is renewed once for the cluster. Each instance also keeps the token it read, so
 * most calls never reach the store. Should the store fail, or the renewal take too long, the
 * instance gets a token of its own, as a single instance does.
 */
export class SharedTokenCache implements TokenSource {
  private current?: StoredToken;
  private inFlight?: Promise<string>;
  private readonly key: string;
  private readonly own: TokenCache;
  private readonly now: () => number;

  constructor(
    private readonly issue: () => Promise<IssuedToken>,
    private readonly options: TokenCacheOptions,
    private readonly shared: SharedTokenOptions,
  ) {
    this.key = `token:${shared.name ?? 'access'}`;
    this.now = shared.now ?? options.now ?? Date.now;
    this.own = new TokenCache(issue, options);
  }

  get(): Promise<string> {
    if (this.current && this.now() < this.current.renewAt) return Promise.resolve(this.current.token);
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  async invalidate(token: string): Promise<void> {
    if (this.current?.token === token) this.current = undefined;
    await this.own.invalidate(token);
    try {
      // Only if it is still the refused one: another instance may have renewed it already.
      const stored = await this.read();
      if (stored?.token === token) await this.shared.store.delete(this.key);
    } catch (err) {
      if (!isStoreError(err)) throw err;
    }
  }

  clear(): void {
    this.current = undefined;
    this.own.clear();
  }

  private async fetch(): Promise<string> {
    try {
      const stored = await this.read();
      if (stored && this.now() < stored.renewAt) return this.use(stored);
      const result = await this.shared.store.withLock(
        this.key,
        TOKEN_LOCK_MS,
        async () => {
          // Another instance may have renewed it between the read and the lock.
          const again = await this.read();
          if (again && this.now() < again.renewAt) return again;
          return this.renew();
        },
        { waitMs: TOKEN_WAIT_MS },
      );
      if (result.status === 'ran') return this.use(result.value);
      if (result.status === 'released') {
        const renewed = await this.read();
        if (renewed && this.now() < renewed.renewAt) return this.use(renewed);
      }
    } catch (err) {
      if (!isStoreError(err)) throw err;
    }
    // The store failed, or the instance renewing the token did not finish in time.
    return this.own.get();
  }

  private async renew(): Promise<StoredToken> {
    const issued = await this.issue();
    // As TokenCache: renew the margin early, but never before half the lifetime.
    const lifetime = Math.max(issued.expiresInMs - this.options.refreshMarginMs, issued.expiresInMs / 2);
    const stored: StoredToken = { token: issued.token, renewAt: this.now() + lifetime };
    const ttl = Math.max(1000, Math.ceil(issued.expiresInMs));
    try {
      await this.shared.store.set(this.key, await this.shared.sealer.seal(stored, this.key), ttl);
    } catch (err) {
      if (!isStoreError(err)) throw err;
    }
    return stored;
  }

  private async read(): Promise<StoredToken | undefined> {
    const sealed = await this.shared.store.get<string>(this.key);
    const stored = sealed === undefined ? undefined : await this.shared.sealer.open<StoredToken>(sealed, this.key);
    return stored && typeof stored.token === 'string' && typeof stored.renewAt === 'number' ? stored : undefined;
  }

  private use(stored: StoredToken): string {
    this.current = stored;
    return stored.token;
  }
}

/** The token sources of an account whose instances share `shared.store`. */
export function sharedTokenCache(shared: SharedTokenOptions): TokenSourceFactory {
  return (issue, options) => new SharedTokenCache(issue, options, shared);
}

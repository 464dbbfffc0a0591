/** A token with the moment it stops being usable. */
export interface IssuedToken {
  token: string;
  /** Lifetime from now, in ms, as the provider stated it. */
  expiresInMs: number;
}

/** Where an adapter gets its access token: this instance's cache, or one shared by a cluster. */
export interface TokenSource {
  get(): Promise<string>;
  /** Drops `token` (the provider refused it) if it is still the current one; a newer one is kept. */
  invalidate(token: string): Promise<void>;
  clear(): void;
}

/** Makes an account's token source: the adapter says how a token is issued and when to renew it. */
export type TokenSourceFactory = (issue: () => Promise<IssuedToken>, options: TokenCacheOptions) => TokenSource;

export interface TokenCacheOptions {
  /** Renew this long before the stated expiry. */
  refreshMarginMs: number;
  now?: () => number;
}

export const localTokenCache: TokenSourceFactory = (issue, options) => new TokenCache(issue, options);

/**
 * Caches one access token per account. Concurrent callers share one in-flight request;
 * the token is renewed `refreshMarginMs` before it expires; `invalidate` drops a token the
 * provider rejected so the next `get` fetches a fresh one (once, whoever asks).
 */
export class TokenCache implements TokenSource {
  private current?: { token: string; renewAt: number };
  private inFlight?: Promise<string>;
  private readonly now: () => number;

  constructor(
    private readonly issue: () => Promise<IssuedToken>,
    private readonly options: TokenCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get(): Promise<string> {
    if (this.current && this.now() < this.current.renewAt) return Promise.resolve(this.current.token);
    if (!this.inFlight) {
      this.inFlight = this.issue()
        .then((issued) => {
          // Renew `refreshMarginMs` early, but never before half the lifetime: a token that lives
          // shorter than the margin is still used for a while rather than fetched on every call.
          const lifetime = Math.max(issued.expiresInMs - this.options.refreshMarginMs, issued.expiresInMs / 2);
          this.current = { token: issued.token, renewAt: this.now() + lifetime };
          return issued.token;
        })
        .finally(() => {
          this.inFlight = undefined;
        });
    }
    return this.inFlight;
  }

  /** Drops `token` if it is still the cached one (a newer token is kept). */
  invalidate(token: string): Promise<void> {
    if (this.current?.token === token) this.current = undefined;
    return Promise.resolve();
  }

  clear(): void {
    this.current = undefined;
  }
}

/**
 * Runs `call` with a token; when `isRejected` says the provider refused the token, drops it,
 * takes a new one and runs `call` exactly once more.
 */
export async function withToken<T>(
  cache: TokenSource,
  call: (token: string) => Promise<T>,
  isRejected: (outcome: { result?: T; error?: unknown }) => boolean,
): Promise<T> {
  const token = await cache.get();
  let first: { result?: T; error?: unknown };
  try {
    first = { result: await call(token) };
  } catch (error) {
    first = { error };
  }
  if (!isRejected(first)) {
    if ('error' in first && first.error !== undefined) throw first.error;
    return first.result as T;
  }
  await cache.invalidate(token);
  const fresh = await cache.get();
  return call(fresh);
}

import { Redactor } from '../errors';
import { StoreError, StoreUnavailableError } from './errors';
import {
  FENCE_COUNTER_TTL_MS,
  decodeValue,
  encodeValue,
  fenceOfLease,
  keyOf,
  leaseValue,
  namespacesOf,
  randomToken,
  sleep,
  ttlOf,
} from './encoding';
import { runWithLock } from './lock';
import { ACQUIRE_LEASE, COMPARE_AND_SET, DELETE_IF_EQUAL, EXPIRE_IF_EQUAL, INDEX_SET, type Script } from './redis-scripts';
import type { ClaimOptions, HealthListener, Lease, LockOptions, LockResult, Reducer, StateStore, UpdateOptions } from './types';

export interface RedisStoreOptions {
  /** `redis://host:port[/db]` or `rediss://...`. */
  url: string;
  password?: string;
  keyPrefix?: string;
  configId: string;
  /** Deadline of every command, connection wait included. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export const REDIS_COMMAND_TIMEOUT_MS = 500;
export const REDIS_CONNECT_TIMEOUT_MS = 2000;
/** Reconnection waits 50 ms, 100 ms, ... up to this, plus up to 100 ms of jitter. */
export const REDIS_RECONNECT_MAX_MS = 2000;
/** While down but connected (a server that stopped answering), a PING this often looks for it. */
export const REDIS_PROBE_MS = 500;
/** Attempts of `update` before `store_conflict`. */
export const UPDATE_ATTEMPTS = 8;
/** Claims whose outcome is unknown, kept to be undone when Redis answers again. */
const MAX_UNSURE_CLAIMS = 10000;

/** The part of node-redis's client this store uses. */
interface RedisConnection {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  destroy(): void;
  on(event: string, listener: (arg: unknown) => void): unknown;
}

type State = 'connecting' | 'up' | 'down' | 'closed';

/** Redis reply errors that mean the server cannot serve us for now. */
const SERVER_UNAVAILABLE = /^(NOAUTH|WRONGPASS|LOADING|MASTERDOWN|READONLY|OOM|BUSY|NOPERM|MISCONF)\b/;

class NoScriptError extends Error {}

/** Shared state in Redis (SPEC section 8): every command has a deadline, failures are `StoreUnavailableError`. */
export class RedisStore implements StateStore {
  readonly kind = 'redis';
  private readonly client: RedisConnection;
  private readonly ns: { values: string; internal: string };
  private readonly timeoutMs: number;
  private readonly redactor: Redactor;
  private readonly healthListeners = new Set<HealthListener>();
  /** Commands waiting for the connection: how to send each, and how to fail it. */
  private readonly readyWaiters = new Map<() => void, (reason: string) => void>();
  private readonly unsureClaims = new Map<string, string>();
  private readonly updatesInFlight = new Map<string, Promise<void>>();
  private state: State = 'connecting';
  private reason: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  /** True while a TCP connection is being opened: node-redis cannot destroy that socket yet. */
  private opening = true;

  constructor(options: RedisStoreOptions) {
    this.ns = namespacesOf(options.keyPrefix ?? 'pbx:', options.configId);
    this.timeoutMs = options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS;
    this.redactor = new Redactor([options.password, passwordInUrl(options.url), options.url]);
    if (!/^rediss?:\/\//i.test(options.url)) throw new StoreUnavailableError('the Redis URL must start with redis:// or rediss://');
    // Loaded here, not at module load: without a Redis URL the package never needs it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createClient } = require('@redis/client') as { createClient: (options: object) => RedisConnection };
    try {
      this.client = createClient({
        url: options.url,
        ...(options.password ? { password: options.password } : {}),
        // Commands fail at once while disconnected instead of piling up.
        disableOfflineQueue: true,
        socket: {
          connectTimeout: options.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS,
          reconnectStrategy: (retries: number) =>
            this.state === 'closed'
              ? false
              : Math.min(50 * 2 ** Math.min(retries, 16), REDIS_RECONNECT_MAX_MS) + Math.floor(Math.random() * 100),
        },
      });
    } catch (err) {
      throw new StoreUnavailableError(`the Redis URL is not valid: ${this.describe(err)}`);
    }
    // Without an 'error' listener an EventEmitter throws: that would take Node-RED down.
    this.client.on('error', (err) => {
      this.opening = false;
      if (this.state === 'closed') return this.destroyClient();
      if (!this.client.isReady) this.markDown(this.describe(err));
    });
    this.client.on('reconnecting', () => {
      this.opening = true;
    });
    this.client.on('connect', () => {
      this.opening = false;
      // Closed while this socket was being opened: now it can be destroyed, before the handshake.
      if (this.state === 'closed') this.destroyClient();
    });
    this.client.on('ready', () => {
      if (this.state === 'closed') return this.destroyClient();
      // Connected is not yet usable: a server that wants a password we were not given says so
      // only to the first command.
      this.probe();
      for (const go of [...this.readyWaiters.keys()]) go();
    });
    this.client.connect().catch((err: unknown) => this.markDown(this.describe(err)));
  }

  get isUp(): boolean {
    return this.state === 'up';
  }

  get lastError(): string | undefined {
    return this.state === 'up' ? undefined : this.reason;
  }

  onHealth(listener: HealthListener): () => void {
    this.healthListeners.add(listener);
    return () => this.healthListeners.delete(listener);
  }

  async claim(key: string, ttlMs: number, options: ClaimOptions = {}): Promise<boolean> {
    const k = this.valueKey(key);
    const token = randomToken();
    try {
      return (await this.exec(['SET', k, token, 'NX', 'PX', String(ttlOf(ttlMs))])) === 'OK';
    } catch (err) {
      if (options.undoIfUnsure && this.unsureClaims.size < MAX_UNSURE_CLAIMS) this.unsureClaims.set(k, token);
      throw err;
    }
  }

  async get<T>(key: string): Promise<T | undefined> {
    return decodeValue<T>((await this.exec(['GET', this.valueKey(key)])) as string | null);
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.exec(['SET', this.valueKey(key), encodeValue(value), 'PX', String(ttlOf(ttlMs))]);
  }

  async delete(key: string): Promise<void> {
    await this.exec(['DEL', this.valueKey(key)]);
  }

  /**
   * Updates of one key from this instance run one after another, so they only race updates from
   * other instances: a handful of attempts is then enough however many local callers there are.
   */
  update<T>(key: string, ttlMs: number, reduce: Reducer<T>, options: UpdateOptions = {}): Promise<T | undefined> {
    const k = this.valueKey(key);
    const previous = this.updatesInFlight.get(k) ?? Promise.resolve();
    const result = previous.then(() => this.compareAndSet(k, ttlMs, reduce, options));
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.updatesInFlight.set(k, settled);
    void settled.then(() => {
      if (this.updatesInFlight.get(k) === settled) this.updatesInFlight.delete(k);
    });
    return result;
  }

  private async compareAndSet<T>(k: string, ttlMs: number, reduce: Reducer<T>, options: UpdateOptions): Promise<T | undefined> {
    const ttl = String(ttlOf(ttlMs));
    const fence = options.fence;
    const keys = fence ? [k, this.internalKey('lease', fence.lease)] : [k];
    for (let attempt = 1; attempt <= UPDATE_ATTEMPTS; attempt++) {
      const read = (await this.exec(['GET', k])) as string | null;
      const next = reduce(decodeValue<T>(read));
      if (read === null && next === undefined && !fence) return undefined;
      const args = [read ?? '', next === undefined ? '' : encodeValue(next), ttl, ...(fence ? [String(fence.fence)] : [])];
      const written = await this.evalScript(COMPARE_AND_SET, keys, args);
      if (written === 1) return next;
      if (written === -1) throw new StoreError('lease_lost', `the lease "${fence?.lease}" is held under another fence`);
      await sleep(Math.floor(Math.random() * Math.min(2 ** attempt, 40)) + 1);
    }
    throw new StoreError('store_conflict', `the value changed under ${UPDATE_ATTEMPTS} attempts in a row; not written`);
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    const keys = [this.internalKey('lease', name), this.internalKey('fence', name)];
    const fence = Number(await this.evalScript(ACQUIRE_LEASE, keys, [owner, String(ttlOf(ttlMs)), String(FENCE_COUNTER_TTL_MS)]));
    return fence > 0 ? { fence } : null;
  }

  async renewLease(name: string, owner: string, fence: number, ttlMs: number): Promise<boolean> {
    const leaseKey = this.internalKey('lease', name);
    return (await this.evalScript(EXPIRE_IF_EQUAL, [leaseKey], [leaseValue(fence, owner), String(ttlOf(ttlMs))])) === 1;
  }

  async releaseLease(name: string, owner: string, fence: number): Promise<void> {
    await this.evalScript(DELETE_IF_EQUAL, [this.internalKey('lease', name)], [leaseValue(fence, owner)]);
  }

  async isCurrent(name: string, fence: number): Promise<boolean> {
    return fenceOfLease((await this.exec(['GET', this.internalKey('lease', name)])) as string | null) === fence;
  }

  async indexSet(key: string, member: string, score: number, ttlMs: number, max: number): Promise<void> {
    await this.evalScript(INDEX_SET, [this.valueKey(key)], [String(score), member, String(ttlOf(ttlMs)), String(Math.max(1, max))]);
  }

  async indexRemove(key: string, member: string): Promise<void> {
    await this.exec(['ZREM', this.valueKey(key), member]);
  }

  async indexRange(key: string, maxScore: number, limit: number): Promise<string[]> {
    const max = Number.isFinite(maxScore) ? String(maxScore) : '+inf';
    const members = await this.exec(['ZRANGEBYSCORE', this.valueKey(key), '-inf', max, 'LIMIT', '0', String(Math.max(0, limit))]);
    return Array.isArray(members) ? members.map(String) : [];
  }

  async withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>, options: LockOptions): Promise<LockResult<T>> {
    const lockKey = this.internalKey('lock', name);
    const ttl = String(ttlOf(ttlMs));
    return runWithLock(
      {
        tryLock: async (_n, token) => (await this.exec(['SET', lockKey, token, 'NX', 'PX', ttl])) === 'OK',
        unlock: async (_n, token) => void (await this.evalScript(DELETE_IF_EQUAL, [lockKey], [token])),
        isLocked: async () => (await this.exec(['EXISTS', lockKey])) === 1,
      },
      name,
      ttlOf(ttlMs),
      fn,
      options.waitMs,
    );
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopProbe();
    this.failWaiters('the state store is closed');
    this.destroyClient();
  }

  /**
   * node-redis's destroy() cannot reach a socket that is still being opened (that socket would
   * connect and stay open), so while one is, the 'connect' or 'error' that ends it calls this again.
   * A handshake that hangs (a server that accepts and never answers) is destroyed at once.
   */
  private destroyClient(): void {
    if (this.opening || !this.client.isOpen) return;
    try {
      this.client.destroy();
    } catch {
      // Already closed.
    }
  }

  private valueKey(key: string): string {
    return keyOf(this.ns.values, key);
  }

  private internalKey(kind: 'lease' | 'fence' | 'lock', name: string): string {
    return keyOf(`${this.ns.internal}${kind}:`, name);
  }

  private exec(args: string[]): Promise<unknown> {
    if (this.state === 'closed') return Promise.reject(new StoreUnavailableError('the state store is closed'));
    if (this.state === 'down') return Promise.reject(new StoreUnavailableError(`Redis is down: ${this.reason ?? 'unknown'}`));
    return this.send(args);
  }

  private async evalScript(script: Script, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.exec(['EVALSHA', script.sha, String(keys.length), ...keys, ...args]);
    } catch (err) {
      if (!(err instanceof NoScriptError)) throw err;
      return this.exec(['EVAL', script.source, String(keys.length), ...keys, ...args]);
    }
  }

  /** One command under the deadline, waiting for the connection within it; whatever the health. */
  private send(args: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.readyWaiters.delete(go);
        fn();
      };
      const timer = setTimeout(
        () =>
          settle(() => {
            const message = `Redis did not answer within ${this.timeoutMs} ms`;
            this.markDown(message);
            reject(new StoreUnavailableError(message));
          }),
        this.timeoutMs,
      );
      const go = () => {
        if (settled || this.state === 'closed') return;
        this.readyWaiters.delete(go);
        let reply: Promise<unknown>;
        try {
          reply = this.client.sendCommand(args);
        } catch (err) {
          reply = Promise.reject(err);
        }
        reply.then(
          (value) => settle(() => resolve(value)),
          (err: unknown) => settle(() => reject(this.failure(err))),
        );
      };
      if (this.client.isReady) go();
      else this.readyWaiters.set(go, (reason) => settle(() => reject(new StoreUnavailableError(reason))));
    });
  }

  private failure(err: unknown): Error {
    const message = err instanceof Error ? err.message : String(err);
    const isReply = err instanceof Error && /ErrorReply|SimpleError|BlobError/.test(err.constructor.name);
    if (isReply && message.startsWith('NOSCRIPT')) return new NoScriptError(message);
    if (isReply && !SERVER_UNAVAILABLE.test(message)) {
      return new StoreUnavailableError(`Redis refused the command: ${this.redactor.redact(message.slice(0, 200))}`);
    }
    const reason = this.describe(err);
    this.markDown(reason);
    return new StoreUnavailableError(`Redis is down: ${reason}`);
  }

  /** A short reason without any credential. */
  private describe(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    if (/^(WRONGPASS|NOAUTH)/.test(message)) return 'Redis refused the password (check the Redis password)';
    const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
    return this.redactor.redact((message || code || 'unknown error').slice(0, 200));
  }

  private markDown(reason: string): void {
    if (this.state === 'closed') return;
    this.reason = reason;
    if (this.state === 'down') return;
    this.state = 'down';
    this.failWaiters(`Redis is down: ${reason}`);
    this.startProbe();
    this.emitHealth(false);
  }

  private markUp(): void {
    if (this.state === 'closed' || this.state === 'up') return;
    this.state = 'up';
    this.reason = undefined;
    this.stopProbe();
    this.emitHealth(true);
    this.undoUnsureClaims();
  }

  private failWaiters(reason: string): void {
    for (const fail of [...this.readyWaiters.values()]) fail(reason);
    this.readyWaiters.clear();
  }

  private emitHealth(up: boolean): void {
    for (const listener of [...this.healthListeners]) {
      try {
        listener(up);
      } catch {
        // A listener's failure is its own; it must not stop the store.
      }
    }
  }

  /** While down on an open connection, nothing else tells us when Redis answers again. */
  private startProbe(): void {
    if (this.probeTimer) return;
    this.probeTimer = setInterval(() => this.probe(), REDIS_PROBE_MS);
    this.probeTimer.unref();
  }

  /** A PING under the deadline: up when it answers (its failure marks the store down). */
  private probe(): void {
    if (this.probing || !this.client.isReady) return;
    this.probing = true;
    this.send(['PING']).then(
      () => {
        this.probing = false;
        this.markUp();
      },
      () => {
        this.probing = false;
      },
    );
  }

  private stopProbe(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private undoUnsureClaims(): void {
    for (const [key, token] of [...this.unsureClaims]) {
      this.evalScript(DELETE_IF_EQUAL, [key], [token]).then(
        () => this.unsureClaims.delete(key),
        () => undefined,
      );
    }
  }
}

function passwordInUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.password ? decodeURIComponent(parsed.password) : undefined;
  } catch {
    return undefined;
  }
}

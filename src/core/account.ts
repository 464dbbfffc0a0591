import { randomUUID } from 'node:crypto';
import type { ClosableCalls } from './call-closer';
import { CallTracker, type CallTrackerOptions, type SyntheticClose } from './call-tracker';
import type { RedisDownMode } from './cluster-settings';
import { DuplicateFilter } from './duplicate-filter';
import { PbxError, Redactor } from './errors';
import { rateLimited } from './rate-limit';
import { HttpClient, withActionDeadline } from './http';
import { runOperation, WebhookPayloadError, type ProviderAdapter, type ProviderDefinition } from './provider';
import { SharedCalls } from './shared-calls';
import { isStoreError } from './state/errors';
import { sharedTokenCache } from './shared-tokens';
import { MemoryStore } from './state/memory-store';
import { Sealer } from './state/sealed';
import type { StateStore } from './state/types';
import type { AccountSettings, ActionResult, CallEvent, ExtensionState, Logger, NodeKind, Params, WebhookInput } from './types';

export type EventListener = (event: CallEvent, raw: unknown) => void;

/**
 * Whether the account's credentials work, as its operations last showed: `auth_failed` after an
 * operation failed with that code, `ok` after the next operation that succeeded.
 */
export type AccountHealth = 'ok' | 'auth_failed';
export type HealthListener = (health: AccountHealth) => void;

/** What the editor offers as completions for a parameter. */
export type DirectoryKind = 'extensions' | 'queues' | 'ringgroups' | 'usergroups';
export const DIRECTORY_KINDS: readonly DirectoryKind[] = ['extensions', 'queues', 'ringgroups', 'usergroups'];

export interface DirectoryEntry {
  /** What goes into the parameter: an extension, queue or group number (or a user group name). */
  value: string;
  name?: string;
  state?: string;
}

export interface Directory {
  /** False when the provider cannot list this kind; `entries` is then empty. */
  supported: boolean;
  entries: DirectoryEntry[];
}

/** What an account remembers of the webhooks it saw; handed on when its config node is redeployed. */
export interface AccountMemory {
  duplicates: DuplicateFilter;
  tracker: CallTracker;
  /** This process's own state store (see `stateStore`), once a node has used it. */
  localStore?: MemoryStore;
}

export interface AccountOptions {
  settings: AccountSettings;
  definition: ProviderDefinition;
  log: Logger;
  tracker?: CallTrackerOptions;
  retryDelaysMs?: number[];
  /** The memory of the account this one replaces (same config node, same provider). */
  memory?: AccountMemory;
  /** Cluster mode (SPEC section 8): the store every instance shares, and what to do while it is down. */
  cluster?: { store: StateStore; redisDown: RedisDownMode; namespace: string };
}

/** The lease of the instance that closes stale and reconciled calls, in cluster mode. */
const CLOSER_LEASE = 'call-closer';

/** Events of shared deliveries that finished while the flows restarted, kept for the new nodes. */
export const MAX_PARKED_EVENTS = 500;

/** Called when the shared store goes down (false) or answers again (true). */
export type ClusterHealthListener = (up: boolean) => void;

/**
 * The runtime of one pbx-config node, provider-neutral: its adapter and HTTP client, the
 * webhook pipeline (duplicates → adapter.normalizeWebhook → call tracker → subscribers).
 */
export class Account implements ClosableCalls {
  readonly definition: ProviderDefinition;
  readonly redactor: Redactor;
  readonly tracker: CallTracker;
  private readonly http: HttpClient;
  private readonly adapter: ProviderAdapter;
  private readonly duplicates: DuplicateFilter;
  private readonly listeners = new Set<EventListener>();
  /** Bad payloads from a sender that knows the secret: warned about, but not one line each. */
  private readonly warnInvalid: (message: string) => void;
  /** Failures inside the pipeline itself (a bug, never the sender's fault): logged, counted, survived. */
  private readonly warnFailure: (message: string) => void;
  private readonly healthListeners = new Set<HealthListener>();
  private health: AccountHealth = 'ok';
  private readonly log: Logger;
  /** Closed for a redeploy: shared deliveries that finish meanwhile are parked for the successor. */
  private suspended = false;
  private parked: Array<{ event: CallEvent; raw: unknown }> = [];
  /** Set in cluster mode: duplicates and calls shared with the other instances. */
  private readonly shared?: SharedCalls;
  /** The shared store, in cluster mode; closed with the account. */
  readonly store?: StateStore;
  /** Created when a node first asks for `stateStore` outside cluster mode; handed on with `memory`. */
  private localStore?: MemoryStore;
  /** This account's owner name for leases (one per process and config). */
  private readonly instanceId = randomUUID();
  /** Deliveries accepted, duplicates dropped, payloads ignored: for status and tests. */
  readonly counters = { delivered: 0, duplicates: 0, ignored: 0, invalid: 0, events: 0, failed: 0, refused: 0, parked: 0 };

  constructor(options: AccountOptions) {
    const { settings, definition } = options;
    this.definition = definition;
    this.redactor = new Redactor(Object.values(settings.credentials));
    this.log = {
      debug: (m) => options.log.debug(this.redactor.redact(m)),
      warn: (m) => options.log.warn(this.redactor.redact(m)),
    };
    this.warnInvalid = rateLimited((m) => this.log.warn(m));
    this.warnFailure = rateLimited((m) => this.log.warn(m));
    this.duplicates = options.memory?.duplicates ?? new DuplicateFilter();
    this.tracker = options.memory?.tracker ?? new CallTracker(options.tracker);
    this.localStore = options.memory?.localStore;
    this.http = new HttpClient({
      baseUrl: settings.baseUrl,
      timeout: settings.timeout,
      rejectUnauthorized: settings.rejectUnauthorized,
      redactor: this.redactor,
      retryDelaysMs: options.retryDelaysMs,
    });
    const cluster = options.cluster;
    if (cluster) {
      this.store = cluster.store;
      this.shared = new SharedCalls({
        store: cluster.store,
        redisDown: cluster.redisDown,
        local: { duplicates: this.duplicates, tracker: this.tracker },
      });
      const store = cluster.store;
      const whileDown =
        cluster.redisDown === 'reject' ? 'webhooks are answered 503' : "webhooks are handled with this instance's own state";
      // The only place the reason (refused password, nothing listening, no answer) is told.
      let toldDown = false;
      store.onHealth((up) => {
        if (up && toldDown) this.log.warn('Redis answers again; state is shared again');
        if (!up) this.log.warn(`Redis down: ${store.lastError ?? 'unknown'}; ${whileDown}`);
        toldDown = !up;
      });
    }
    const tokens = cluster
      ? sharedTokenCache({ store: cluster.store, sealer: new Sealer(Object.values(settings.credentials), cluster.namespace) })
      : undefined;
    this.adapter = definition.create({ settings, http: this.http, redactor: this.redactor, log: this.log, tokens });
  }

  /**
   * Whether a webhook delivery must be answered 503 now, so the PBX delivers it again later:
   * in cluster mode with `redisDown: reject` while the store is down, or when deliveries pile up.
   */
  get refusesDeliveries(): boolean {
    return this.shared?.refusing ?? false;
  }

  /**
   * In cluster mode, calls `listener` on every change of the shared store's health (and at once
   * while it is down). Returns the unsubscribe function; a no-op for a single instance.
   */
  onClusterHealth(listener: ClusterHealthListener): () => void {
    const store = this.store;
    if (!store) return () => undefined;
    if (!store.isUp) listener(false);
    return store.onHealth(listener);
  }

  /** Resolves when every delivery taken so far has been emitted (cluster mode takes them in turn). */
  settled(): Promise<void> {
    return this.shared?.settled() ?? Promise.resolve();
  }

  supports(node: NodeKind, operation: string): boolean {
    return this.definition.operations.some((o) => o.node === node && o.name === operation);
  }

  async run(node: NodeKind, operation: string, params: Params): Promise<ActionResult> {
    let result: ActionResult;
    try {
      result = await withActionDeadline(this.http.actionDeadlineMs, () =>
        runOperation(this.definition, this.adapter, this.redactor, node, operation, params),
      );
    } catch (err) {
      if (err instanceof PbxError && err.code === 'auth_failed') this.setHealth('auth_failed');
      throw err;
    }
    this.setHealth('ok');
    return result;
  }

  /**
   * Calls `listener` on every change of health (and at once when the credentials are known to
   * fail, so a node deployed later shows it too). Returns the unsubscribe function.
   */
  onHealth(listener: HealthListener): () => void {
    this.healthListeners.add(listener);
    if (this.health !== 'ok') listener(this.health);
    return () => this.healthListeners.delete(listener);
  }

  private setHealth(health: AccountHealth): void {
    if (health === this.health) return;
    this.health = health;
    for (const listener of [...this.healthListeners]) {
      try {
        listener(health);
      } catch (err) {
        this.log.warn(`health listener failed: ${String(err)}`);
      }
    }
  }

  /**
   * Extensions, queues, ring groups or user groups, for completion in the editor: extensions
   * from the `extensions` query, the others from `list`. A provider without the query (or the
   * kind) answers `supported: false`; other failures are thrown as PbxError.
   */
  async directory(kind: DirectoryKind): Promise<Directory> {
    const sorted = (entries: DirectoryEntry[]): DirectoryEntry[] =>
      entries.filter((e) => e.value).sort((a, b) => a.value.localeCompare(b.value, 'en', { numeric: true }));
    if (kind === 'extensions' && this.supports('status', 'extensions')) {
      const states = (await this.run('status', 'extensions', {})).payload as ExtensionState[];
      return {
        supported: true,
        entries: sorted(states.map((s) => entryOf({ value: s.extension, name: s.name, state: s.state }))),
      };
    }
    if (!this.supports('status', 'list')) return { supported: false, entries: [] };
    let items: unknown;
    try {
      items = (await this.run('status', 'list', { kind })).payload;
    } catch (err) {
      // A provider whose `list` does not know this kind.
      if (err instanceof PbxError && (err.code === 'invalid_input' || err.code === 'unsupported')) return { supported: false, entries: [] };
      throw err;
    }
    const list = Array.isArray(items) ? (items as Array<Record<string, unknown>>) : [];
    return { supported: true, entries: sorted(list.map((i) => entryOf({ value: i.number, name: i.name }))) };
  }

  async testConnection(): Promise<string> {
    try {
      return this.redactor.redact(await withActionDeadline(this.http.actionDeadlineMs, () => this.adapter.testConnection()));
    } catch (err) {
      // Tokens the adapter obtained are in this redactor, not in the caller's.
      if (err instanceof PbxError) throw new PbxError(err.code, this.redactor.redact(err.message), err.toJSON());
      throw new PbxError('provider_error', this.redactor.redact(err instanceof Error ? err.message : String(err)));
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get memory(): AccountMemory {
    return { duplicates: this.duplicates, tracker: this.tracker, localStore: this.localStore };
  }

  /**
   * Where nodes keep state that must outlive a redeploy (pbx-missed): in cluster mode the store
   * every instance shares, else this process's own, kept with the account across redeploys of
   * its config node (and handed on when its settings change, as `memory`).
   */
  get stateStore(): StateStore {
    return this.store ?? (this.localStore ??= new MemoryStore({ configId: 'local' }));
  }

  /**
   * One accepted webhook delivery. Never throws: whatever fails in the normalizer, the tracker or
   * a listener is logged (rate-limited) and counted, and the next delivery goes on as usual.
   */
  deliver(input: WebhookInput, fingerprint: string): void {
    try {
      this.process(input, fingerprint);
    } catch (err) {
      this.deliveryFailed(err);
    }
  }

  /** True in cluster mode: deliveries go through `deliverShared`, answered once the shared state has them. */
  get isShared(): boolean {
    return this.shared !== undefined;
  }

  /**
   * One accepted delivery in cluster mode. Taken after every delivery of the same call before it
   * on this instance (deliveries of other calls go on meanwhile);
   * `reply` is called once the shared store has it (200), or with 503 when Redis is down and
   * `redisDown` is `reject` (nothing emitted, the PBX sends it again). Answering only then keeps
   * the order of a PBX that sends one webhook after the other, whichever instance each reaches.
   * Never throws or rejects.
   */
  deliverShared(input: WebhookInput, fingerprint: string, reply: (status: 200 | 503) => void): void {
    const shared = this.shared;
    if (!shared) {
      reply(200);
      return this.deliver(input, fingerprint);
    }
    const failed = (err: unknown) => {
      reply(200);
      this.deliveryFailed(err);
    };
    this.counters.delivered++;
    let events: CallEvent[] | undefined;
    try {
      // Normalized first: a payload that maps to nothing costs no round trip to the store.
      events = this.normalize(input);
    } catch (err) {
      return failed(err);
    }
    if (!events) return reply(200);
    const taken = events;
    shared.enqueue(
      taken.map((e) => e.callId),
      () => this.processShared(shared, input, taken, fingerprint, reply),
      failed,
    );
  }

  private deliveryFailed(err: unknown): void {
    this.counters.failed++;
    this.warnFailure(`webhook delivery failed: ${describeError(err)}`);
  }

  private process(input: WebhookInput, fingerprint: string): void {
    this.counters.delivered++;
    if (this.duplicates.isDuplicate(fingerprint)) return this.dropDuplicate();
    const events = this.normalize(input);
    if (!events) return;
    const raw = rawPayloadOf(input);
    for (const event of events) {
      let tracked: CallEvent | undefined;
      try {
        tracked = this.tracker.apply(event);
      } catch (err) {
        this.trackingFailed(err);
        continue;
      }
      if (tracked) this.emit(tracked, raw);
      else this.dropEnded();
    }
  }

  /** The same in cluster mode: duplicates and call state in the shared store (SharedCalls). */
  private async processShared(
    shared: SharedCalls,
    input: WebhookInput,
    events: CallEvent[],
    fingerprint: string,
    reply: (status: 200 | 503) => void,
  ): Promise<void> {
    const outcome = await shared.take(fingerprint, events);
    if (outcome === 'refused') {
      this.counters.refused++;
      return reply(503);
    }
    reply(200);
    if (outcome === 'duplicate') return this.dropDuplicate();
    const raw = rawPayloadOf(input);
    for (const tracked of outcome) {
      if (tracked instanceof Error) this.trackingFailed(tracked);
      else if (tracked) this.emitOrPark(tracked, raw);
      else this.dropEnded();
    }
  }

  private dropEnded(): void {
    this.log.debug('hangup of a call that already ended (or was closed without its hangup) dropped');
  }

  /**
   * Open calls with no event for `idleMs`, at most `max` (see CallCloser): this process's
   * tracker, or in cluster mode the shared index of open calls.
   */
  async idleCalls(idleMs: number, max: number): Promise<string[]> {
    return this.shared ? this.shared.idleCalls(idleMs, max) : this.tracker.idleCalls(idleMs, max);
  }

  /**
   * Whether call `callId` has ended as far as this account knows (its tracker, or in cluster mode
   * the shared state): false while open, forgotten or never seen. For nodes that may have missed
   * a call's hangup (one redeployed while calls went on).
   */
  async hasEnded(callId: string): Promise<boolean> {
    return this.shared ? this.shared.hasEnded(callId) : this.tracker.hasEnded(callId);
  }

  /** Open calls, at most `max` (see CallCloser). */
  async openCalls(max: number): Promise<string[]> {
    return this.shared ? this.shared.openCalls(max) : this.tracker.openCalls(max);
  }

  /**
   * Whether this instance closes calls now: always for a single instance; in cluster mode while
   * it holds the lease (taken or renewed here for `ttlMs`), so one instance of the cluster does.
   */
  async holdsCloserLease(ttlMs: number): Promise<boolean> {
    if (!this.store) return true;
    try {
      return (await this.store.acquireLease(CLOSER_LEASE, this.instanceId, ttlMs)) !== null;
    } catch (err) {
      if (isStoreError(err)) return false;
      throw err;
    }
  }

  /**
   * Closes open call `callId` with a synthetic hangup (SPEC section 9), emitted to the
   * subscribers as any event; false when the call is not open (any more) or had an event after
   * `quietSince` (ms). In cluster mode the close is one atomic change of the shared state, so
   * exactly one instance emits it.
   */
  async closeCall(callId: string, reason: SyntheticClose, quietSince: number): Promise<boolean> {
    const event = this.shared
      ? await this.shared.close(callId, reason, this.definition.id, quietSince)
      : this.tracker.close(callId, reason, this.definition.id, quietSince);
    if (!event) return false;
    // Nothing was received from the PBX: there is no raw payload.
    this.emitOrPark(event, null);
    return true;
  }

  /** Whether open calls can be compared with the PBX's: `active-calls` with ids the events share. */
  get canReconcile(): boolean {
    return this.definition.activeCallIds !== undefined && this.supports('status', 'active-calls');
  }

  /** The calls the PBX lists as active, as event `callId`s; undefined when it cannot tell (see `canReconcile`). */
  async activeCallIds(): Promise<Set<string> | undefined> {
    const idsOf = this.definition.activeCallIds;
    if (!idsOf || !this.canReconcile) return undefined;
    const result = await this.run('status', 'active-calls', {});
    return new Set(idsOf(result.payload));
  }

  private dropDuplicate(): void {
    this.counters.duplicates++;
    this.log.debug('duplicate webhook delivery dropped');
  }

  /** The delivery's events; undefined when it carries none this package maps (counted, logged). */
  private normalize(input: WebhookInput): CallEvent[] | undefined {
    let events: CallEvent[];
    try {
      events = this.definition.normalizeWebhook(input);
    } catch (err) {
      if (!(err instanceof WebhookPayloadError)) throw err;
      this.counters.invalid++;
      this.warnInvalid(`webhook ignored: ${err.message}`);
      return undefined;
    }
    if (events.length === 0) {
      this.counters.ignored++;
      this.log.debug('webhook carried no event this package maps; ignored');
      return undefined;
    }
    return events;
  }

  private trackingFailed(err: unknown): void {
    this.counters.failed++;
    this.warnFailure(`call tracking failed: ${describeError(err)}`);
  }

  /**
   * Emits now, or, while the config node is closed for a redeploy (a shared delivery may finish
   * in between), keeps the event for the node's successor: bounded, the oldest given up first.
   */
  private emitOrPark(event: CallEvent, raw: unknown): void {
    if (!this.suspended) return this.emit(event, raw);
    if (this.parked.length >= MAX_PARKED_EVENTS) {
      this.parked.shift();
      this.counters.failed++;
      this.warnFailure('events finished during a redeploy exceeded what is kept for the new flows; the oldest was dropped');
    }
    this.parked.push({ event, raw });
    this.counters.parked++;
  }

  /** The config node's successor has started: events finished meanwhile go to its subscribers. */
  resume(): void {
    this.suspended = false;
    const parked = this.parked;
    this.parked = [];
    for (const { event, raw } of parked) this.emit(event, raw);
  }

  private emit(event: CallEvent, raw: unknown): void {
    this.counters.events++;
    for (const listener of this.listeners) {
      try {
        listener(event, raw);
      } catch (err) {
        this.counters.failed++;
        this.warnFailure(`event listener failed: ${describeError(err)}`);
      }
    }
  }

  /**
   * Its config node closed for a redeploy: what that node's users had begun (requests, retries,
   * token requests) ends; the account and everything it remembers stays for the node's successor.
   */
  suspend(): void {
    this.suspended = true;
    this.http.interrupt();
    this.listeners.clear();
    this.healthListeners.clear();
  }

  close(): void {
    this.adapter.close();
    this.http.close();
    this.listeners.clear();
    this.healthListeners.clear();
    // Never rejects (the store's contract), but a promise is never left unhandled either.
    this.store?.close().catch(() => undefined);
  }
}

function describeError(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unprintable error';
  }
}

function entryOf(raw: { value: unknown; name?: unknown; state?: unknown }): DirectoryEntry {
  const entry: DirectoryEntry = { value: String(raw.value ?? '') };
  if (typeof raw.name === 'string' && raw.name && raw.name !== entry.value) entry.name = raw.name;
  if (typeof raw.state === 'string' && raw.state) entry.state = raw.state;
  return entry;
}

/** msg.raw: the provider's payload as received — the body when there is one, else the query. */
function rawPayloadOf(input: WebhookInput): unknown {
  if (input.body !== undefined) return input.body;
  if (Object.keys(input.query).length) return { ...input.query };
  return input.rawQuery;
}

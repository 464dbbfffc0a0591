import { CallTracker, type CallTrackerOptions } from './call-tracker';
import { DuplicateFilter } from './duplicate-filter';
import { PbxError, Redactor } from './errors';
import { rateLimited } from './rate-limit';
import { HttpClient, withActionDeadline } from './http';
import { runOperation, WebhookPayloadError, type ProviderAdapter, type ProviderDefinition } from './provider';
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
}

export interface AccountOptions {
  settings: AccountSettings;
  definition: ProviderDefinition;
  log: Logger;
  tracker?: CallTrackerOptions;
  retryDelaysMs?: number[];
  /** The memory of the account this one replaces (same config node, same provider). */
  memory?: AccountMemory;
}

/**
 * The runtime of one pbx-config node, provider-neutral: its adapter and HTTP client, the
 * webhook pipeline (duplicates → adapter.normalizeWebhook → call tracker → subscribers).
 */
export class Account {
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
  /** Deliveries accepted, duplicates dropped, payloads ignored: for status and tests. */
  readonly counters = { delivered: 0, duplicates: 0, ignored: 0, invalid: 0, events: 0, failed: 0 };

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
    this.http = new HttpClient({
      baseUrl: settings.baseUrl,
      timeout: settings.timeout,
      rejectUnauthorized: settings.rejectUnauthorized,
      redactor: this.redactor,
      retryDelaysMs: options.retryDelaysMs,
    });
    this.adapter = definition.create({ settings, http: this.http, redactor: this.redactor, log: this.log });
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
    return { duplicates: this.duplicates, tracker: this.tracker };
  }

  /**
   * One accepted webhook delivery. Never throws: whatever fails in the normalizer, the tracker or
   * a listener is logged (rate-limited) and counted, and the next delivery goes on as usual.
   */
  deliver(input: WebhookInput, fingerprint: string): void {
    try {
      this.process(input, fingerprint);
    } catch (err) {
      this.counters.failed++;
      this.warnFailure(`webhook delivery failed: ${describeError(err)}`);
    }
  }

  private process(input: WebhookInput, fingerprint: string): void {
    this.counters.delivered++;
    if (this.duplicates.isDuplicate(fingerprint)) {
      this.counters.duplicates++;
      this.log.debug('duplicate webhook delivery dropped');
      return;
    }
    let events: CallEvent[];
    try {
      events = this.definition.normalizeWebhook(input);
    } catch (err) {
      if (!(err instanceof WebhookPayloadError)) throw err;
      this.counters.invalid++;
      this.warnInvalid(`webhook ignored: ${err.message}`);
      return;
    }
    if (events.length === 0) {
      this.counters.ignored++;
      this.log.debug('webhook carried no event this package maps; ignored');
      return;
    }
    const raw = rawPayloadOf(input);
    for (const event of events) {
      let tracked: CallEvent | undefined;
      try {
        tracked = this.tracker.apply(event);
      } catch (err) {
        this.counters.failed++;
        this.warnFailure(`call tracking failed: ${describeError(err)}`);
        continue;
      }
      if (!tracked) {
        this.log.debug('hangup of a call that already ended dropped');
        continue;
      }
      this.counters.events++;
      for (const listener of this.listeners) {
        try {
          listener(tracked, raw);
        } catch (err) {
          this.counters.failed++;
          this.warnFailure(`event listener failed: ${describeError(err)}`);
        }
      }
    }
  }

  /**
   * Its config node closed for a redeploy: what that node's users had begun (requests, retries,
   * token requests) ends; the account and everything it remembers stays for the node's successor.
   */
  suspend(): void {
    this.http.interrupt();
    this.listeners.clear();
    this.healthListeners.clear();
  }

  close(): void {
    this.adapter.close();
    this.http.close();
    this.listeners.clear();
    this.healthListeners.clear();
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

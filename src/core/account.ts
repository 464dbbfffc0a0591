import { CallTracker, type CallTrackerOptions } from './call-tracker';
import { DuplicateFilter } from './duplicate-filter';
import { PbxError, Redactor } from './errors';
import { HttpClient } from './http';
import { runOperation, WebhookPayloadError, type ProviderAdapter, type ProviderDefinition } from './provider';
import type { AccountSettings, ActionResult, CallEvent, Logger, NodeKind, Params, WebhookInput } from './types';

export type EventListener = (event: CallEvent, raw: unknown) => void;

export interface AccountOptions {
  settings: AccountSettings;
  definition: ProviderDefinition;
  log: Logger;
  tracker?: CallTrackerOptions;
  retryDelaysMs?: number[];
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
  private readonly duplicates = new DuplicateFilter();
  private readonly listeners = new Set<EventListener>();
  private readonly log: Logger;
  /** Deliveries accepted, duplicates dropped, payloads ignored: for status and tests. */
  readonly counters = { delivered: 0, duplicates: 0, ignored: 0, invalid: 0, events: 0 };

  constructor(options: AccountOptions) {
    const { settings, definition } = options;
    this.definition = definition;
    this.redactor = new Redactor(Object.values(settings.credentials));
    this.log = {
      debug: (m) => options.log.debug(this.redactor.redact(m)),
      warn: (m) => options.log.warn(this.redactor.redact(m)),
    };
    this.tracker = new CallTracker(options.tracker);
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

  run(node: NodeKind, operation: string, params: Params): Promise<ActionResult> {
    return runOperation(this.definition, this.adapter, this.redactor, node, operation, params);
  }

  async testConnection(): Promise<string> {
    try {
      return this.redactor.redact(await this.adapter.testConnection());
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

  /** One accepted webhook delivery (already answered 200). Never throws. */
  deliver(input: WebhookInput, fingerprint: string): void {
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
      this.counters.invalid++;
      const why = err instanceof WebhookPayloadError ? err.message : `normalizer failed: ${String(err)}`;
      this.log.warn(`webhook ignored: ${why}`);
      return;
    }
    if (events.length === 0) {
      this.counters.ignored++;
      this.log.debug('webhook carried no event this package maps; ignored');
      return;
    }
    const raw = rawPayloadOf(input);
    for (const event of events) {
      const tracked = this.tracker.apply(event);
      this.counters.events++;
      for (const listener of this.listeners) {
        try {
          listener(tracked, raw);
        } catch (err) {
          this.log.warn(`event listener failed: ${String(err)}`);
        }
      }
    }
  }

  close(): void {
    this.adapter.close();
    this.http.close();
    this.listeners.clear();
    this.tracker.clear();
  }
}

/** msg.raw: the provider's payload as received — the body when there is one, else the query. */
function rawPayloadOf(input: WebhookInput): unknown {
  if (input.body !== undefined) return input.body;
  if (Object.keys(input.query).length) return { ...input.query };
  return input.rawQuery;
}

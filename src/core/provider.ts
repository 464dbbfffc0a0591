import { localTokenCache, type IssuedToken, type TokenCacheOptions, type TokenSource, type TokenSourceFactory } from './auth';
import { PbxError, type Redactor } from './errors';
import type { HttpClient } from './http';
import { KNOWN_OPERATIONS } from './registry';
import type {
  AccountSettings,
  ActionResult,
  CallEvent,
  LocalizedText,
  Logger,
  NodeKind,
  OperationName,
  OperationSpec,
  ParamName,
  Params,
  ProviderId,
  WebhookInput,
} from './types';

export { NODE_PARAMS } from './types';
export { KNOWN_OPERATIONS } from './registry';

/** One credential of a provider: a pbx-config credential (Node-RED `type: 'password'`). */
export interface CredentialField {
  /** As Node-RED stores it and the adapter reads it: `settings.credentials[name]`. */
  name: string;
  label: LocalizedText;
  /** `identifier`: an id the vendor issues (client id, app id); `secret`: a key. Neither is ever shown back. */
  kind: 'identifier' | 'secret';
}

/** An extra setting of a provider: a pbx-config property chosen from a list; the first option is the default. */
export interface SettingField {
  /** The pbx-config property, as the adapter reads it: `settings.extra[name]`. */
  name: string;
  label: LocalizedText;
  options: ReadonlyArray<{ value: string; label: LocalizedText }>;
}

/** What an adapter gets to work with: one account's settings and its shared HTTP client. */
export interface ProviderContext {
  settings: AccountSettings;
  http: HttpClient;
  redactor: Redactor;
  log: Logger;
  /** Where access tokens are kept: this instance (the default) or the cluster's shared store. */
  tokens?: TokenSourceFactory;
}

/** The token source of an adapter: from its account's factory, else this instance's own cache. */
export function tokenSourceOf(ctx: ProviderContext, issue: () => Promise<IssuedToken>, options: TokenCacheOptions): TokenSource {
  return (ctx.tokens ?? localTokenCache)(issue, options);
}

/** One account of one provider: performs operations. */
export interface ProviderAdapter {
  request(operation: OperationName, params: Params): Promise<ActionResult>;
  /** Cheapest authenticated call that proves base URL and credentials work. */
  testConnection(): Promise<string>;
  close(): void;
}

/**
 * Everything the package knows about one provider, the one place each of these facts is stated:
 * the runtime, the editor (config dialog, operation lists, help tables) and the docs derive from
 * it. Registered in src/providers/index.ts.
 */
export interface ProviderDefinition {
  /** The pbx-config `provider` value: lower-case letters, digits and dashes. */
  id: ProviderId;
  label: LocalizedText;
  /** The credentials this provider needs, besides `webhookSecret` (every provider has that one). */
  credentials: readonly CredentialField[];
  /** Extra pbx-config settings this provider reads, if any. */
  settings?: readonly SettingField[];
  /** An example base URL, shown in the empty Base URL field. */
  baseUrlPlaceholder: string;
  /**
   * How the PBX side is told where to send events, as the config dialog shows it: `{url}` stands
   * for the webhook URL, `{url?name=value}` for it with that query parameter added.
   */
  webhookHint: LocalizedText;
  /** What it supports; anything else is `unsupported`. */
  operations: readonly OperationSpec[];
  create(context: ProviderContext): ProviderAdapter;
  /** Turns one webhook delivery into zero or more events. Stateless; throws WebhookPayloadError on garbage. */
  normalizeWebhook(input: WebhookInput): CallEvent[];
  /**
   * The `active-calls` result's calls as the events' `callId`s, for reconciling open calls (SPEC
   * section 9). Absent where the list's ids are not the events' ids: such a provider is not reconciled.
   */
  activeCallIds?(payload: unknown): string[];
}

/** A delivery that parsed but is not a payload this provider could have sent (→ warning). */
export class WebhookPayloadError extends Error {}

export function op(
  name: OperationName,
  node: NodeKind,
  required: ParamName[],
  optional: ParamName[] = [],
  stateChanging = node !== 'status',
): OperationSpec {
  return { name, node, required, optional, stateChanging };
}

/**
 * Validates an operation against a provider's table and runs it. Every failure comes out as a
 * PbxError carrying provider and operation, with a redacted message. An operation no registered
 * provider has is `invalid_input`; one that others have is `unsupported`.
 */
export async function runOperation(
  definition: ProviderDefinition,
  adapter: ProviderAdapter,
  redactor: Redactor,
  node: NodeKind,
  operation: string,
  params: Params,
): Promise<ActionResult> {
  const spec = definition.operations.find((o) => o.name === operation && o.node === node);
  const fail = (err: PbxError): never => {
    err.provider = definition.id;
    err.operation = operation;
    throw err;
  };
  if (!spec) {
    const known = KNOWN_OPERATIONS[node];
    return fail(
      known.includes(operation)
        ? new PbxError('unsupported', `${operation} is not supported by ${definition.label['en-US']}`)
        : new PbxError('invalid_input', `unknown operation "${operation}"; expected one of ${known.join(', ')}`),
    );
  }
  const missing = spec.required.filter((p) => !params[p]);
  if (missing.length) fail(new PbxError('invalid_input', `${operation} needs ${missing.join(', ')}`));
  const used: Params = {};
  for (const p of [...spec.required, ...spec.optional]) if (params[p]) used[p] = params[p];
  try {
    return await adapter.request(spec.name, used);
  } catch (err) {
    if (err instanceof PbxError) {
      const clean = new PbxError(err.code, redactor.redact(err.message), err.toJSON());
      return fail(clean);
    }
    const message = err instanceof Error ? err.message : String(err);
    return fail(new PbxError('provider_error', redactor.redact(`${operation}: ${message}`)));
  }
}

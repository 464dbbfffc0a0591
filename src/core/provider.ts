import { PbxError, type Redactor } from './errors';
import type { HttpClient } from './http';
import type {
  AccountSettings,
  ActionResult,
  CallEvent,
  Logger,
  NodeKind,
  OperationName,
  OperationSpec,
  ParamName,
  Params,
  PbxCredentials,
  ProviderId,
  WebhookInput,
} from './types';

/** What an adapter gets to work with: one account's settings and its shared HTTP client. */
export interface ProviderContext {
  settings: AccountSettings;
  http: HttpClient;
  redactor: Redactor;
  log: Logger;
}

/** One account of one provider: performs operations. */
export interface ProviderAdapter {
  request(operation: OperationName, params: Params): Promise<ActionResult>;
  /** Cheapest authenticated call that proves base URL and credentials work. */
  testConnection(): Promise<string>;
  close(): void;
}

/** Everything the package knows about one provider; registered in providers/index.ts. */
export interface ProviderDefinition {
  id: ProviderId;
  label: string;
  /** Credentials this provider needs, besides `webhookSecret`. */
  credentials: Array<keyof PbxCredentials>;
  operations: readonly OperationSpec[];
  create(context: ProviderContext): ProviderAdapter;
  /** Turns one webhook delivery into zero or more events. Stateless; throws WebhookPayloadError on garbage. */
  normalizeWebhook(input: WebhookInput): CallEvent[];
  /** How the PBX side is told where to send events, shown in the config dialog. */
  webhookHint(url: string): string;
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
 * PbxError carrying provider and operation, with a redacted message.
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
    const known = KNOWN_OPERATIONS[node].includes(operation);
    return fail(
      known
        ? new PbxError('unsupported', `${operation} is not supported by ${definition.label}`)
        : new PbxError('invalid_input', `unknown operation "${operation}"; expected one of ${KNOWN_OPERATIONS[node].join(', ')}`),
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

export const KNOWN_OPERATIONS: Record<NodeKind, string[]> = {
  call: ['makecall', 'answer', 'drop', 'transfer', 'join', 'doublecall'],
  status: [
    'extension-state',
    'extensions',
    'extension-info',
    'active-calls',
    'queue-agents',
    'list',
    'group-members',
    'usergroup-members',
    'call-count',
    'call-connections',
    'queue-talking',
    'queue-free',
    'group-free',
  ],
  queue: ['login', 'logout', 'set-status', 'set-options'],
};

/** Parameters each node kind exposes as TypedInputs. */
export const NODE_PARAMS: Record<NodeKind, ParamName[]> = {
  call: ['extension', 'destination', 'callId', 'from', 'reference'],
  status: ['extension', 'queue', 'group', 'kind'],
  queue: ['extension', 'queue', 'status', 'enabled', 'external', 'recording'],
};

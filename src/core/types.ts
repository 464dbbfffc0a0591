/** Public, provider-neutral shapes. Names here follow SPEC.md sections 4 and 6. */

/** The languages of the editor; every text a provider shows there comes in each of them. */
export const LANGUAGES = ['en-US', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];
export type LocalizedText = Readonly<Record<Language, string>>;

/** A provider's id, e.g. the `provider` property of pbx-config: one of the registry's (src/providers/index.ts). */
export type ProviderId = string;

export type CallEventName = 'ringing' | 'answered' | 'hangup' | 'recording';
export const CALL_EVENT_NAMES: readonly CallEventName[] = ['ringing', 'answered', 'hangup', 'recording'];

export type Direction = 'inbound' | 'outbound' | 'internal' | 'unknown';
export type ExtensionType = 'extension' | 'queue' | 'ivr' | 'ringgroup' | 'other';
export type Outcome = 'answered' | 'missed' | 'busy' | 'failed' | 'unknown';
export type TransferKind = 'blind' | 'attended';

/** One call event as the adapter understands it, before the call tracker adds `call`. */
export interface CallEvent {
  event: CallEventName;
  provider: ProviderId;
  providerEvent: string;
  callId: string;
  legId?: string;
  direction: Direction;
  extension?: string;
  extensionType?: ExtensionType;
  from?: string;
  to?: string;
  did?: string;
  outcome?: Outcome;
  durationSeconds?: number;
  hangupCause?: string;
  transfer?: TransferKind;
  recordingUrls?: string[];
  /** Your own id for the call, given to `makecall` as `reference`, where the provider echoes it. */
  reference?: string;
  timestamp: string;
  /** A hangup closed by this package, not sent by the PBX (SPEC section 9: stale or reconciled calls). */
  synthetic?: true;
  call?: CallSummary;
  /**
   * Adapter hint, never emitted: this hangup ended a leg that was handed on by a transfer whose
   * kind the provider does not repeat; the call tracker fills `transfer` from the call's history.
   */
  legTransferred?: boolean;
  /**
   * Adapter hint, never emitted: a hangup the provider may have sent already with an earlier
   * delivery; the call tracker drops it when the call has ended.
   */
  unlessEnded?: boolean;
}

export interface RouteHop {
  event: 'ringing' | 'answered' | 'transfer';
  extension?: string;
  extensionType?: ExtensionType;
  at: string;
}

export interface CallSummary {
  callId: string;
  startedAt: string;
  answeredAt?: string;
  endedAt?: string;
  outcome: Outcome;
  durationSeconds?: number;
  hangupCause?: string;
  route: RouteHop[];
  answeredBy?: string;
  transfers: number;
}

/** A webhook request reduced to what normalizers need. Field maps have no prototype. */
export interface WebhookInput {
  method: 'GET' | 'POST';
  /** Query-string fields (null-prototype map). */
  query: Record<string, string>;
  /** Raw query string without the leading '?', e.g. for senders that put a bare URL there. */
  rawQuery: string;
  /** Parsed body: an object for JSON/form, a string for text, undefined for none. */
  body: unknown;
  receivedAt: Date;
}

export type NodeKind = 'call' | 'status' | 'queue';

/** An operation of a node kind (a `query` on pbx-status); the providers' operation tables list them. */
export type OperationName = string;

/**
 * The parameters each action node kind exposes, one TypedInput (node property `<param>` with
 * `<param>Type`) each, in the order the edit dialog shows them (SPEC section 3). Operation tables
 * use only these; any other parameter reaches no node.
 */
export const NODE_PARAMS = {
  call: ['extension', 'destination', 'callId', 'from', 'reference'],
  status: ['extension', 'queue', 'group', 'kind'],
  queue: ['extension', 'queue', 'status', 'enabled', 'external', 'recording', 'agentId'],
} as const satisfies Record<NodeKind, readonly string[]>;

/** Every parameter a node can resolve from a TypedInput or msg.payload.<param>. */
export type ParamName = (typeof NODE_PARAMS)[NodeKind][number];

export type Params = Partial<Record<ParamName, string>>;

export interface OperationSpec {
  name: OperationName;
  node: NodeKind;
  /** Parameters that must be non-empty. */
  required: ParamName[];
  /** Parameters that may be given. */
  optional: ParamName[];
  /** Changes state on the PBX: never retried; a timeout is `outcome_unknown`. */
  stateChanging: boolean;
}

export type ExtensionStateName = 'idle' | 'ringing' | 'busy' | 'offline' | 'unknown';

export interface ExtensionState {
  extension: string;
  state: ExtensionStateName;
  registered?: boolean;
  [extra: string]: unknown;
}

export interface ActionResult {
  /** The normalized result, becomes msg.payload. */
  payload: unknown;
  /** The provider's response body, becomes msg.raw. */
  raw: unknown;
}

/**
 * Credentials as Node-RED stores them for a pbx-config node: the selected provider's credential
 * fields by name (its definition's `credentials`), and `webhookSecret`.
 */
export type PbxCredentials = Record<string, string | undefined>;

export interface AccountSettings {
  provider: ProviderId;
  baseUrl: string;
  timeout: number;
  rejectUnauthorized: boolean;
  credentials: PbxCredentials;
  /** The provider's extra settings by name (its definition's `settings`), each one of its options. */
  extra?: Readonly<Record<string, string>>;
}

export interface Logger {
  debug(message: string): void;
  warn(message: string): void;
}

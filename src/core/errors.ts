import type { OperationName, ProviderId } from './types';

export type ErrorCode =
  'invalid_input' | 'unsupported' | 'auth_failed' | 'not_found' | 'timeout' | 'unreachable' | 'provider_error' | 'outcome_unknown';

export interface PbxErrorDetails {
  message: string;
  code: ErrorCode;
  status?: number;
  provider?: ProviderId;
  operation?: OperationName | string;
  /** The provider's own error code, e.g. `extension_invalid` or `1012`. */
  providerCode?: string;
}

/** The one error type every action failure becomes. Its message never holds a credential. */
export class PbxError extends Error {
  readonly code: ErrorCode;
  readonly status?: number;
  provider?: ProviderId;
  operation?: OperationName | string;
  readonly providerCode?: string;

  constructor(code: ErrorCode, message: string, extra: Partial<Omit<PbxErrorDetails, 'code' | 'message'>> = {}) {
    super(message);
    this.name = 'PbxError';
    this.code = code;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.provider !== undefined) this.provider = extra.provider;
    if (extra.operation !== undefined) this.operation = extra.operation;
    if (extra.providerCode !== undefined) this.providerCode = extra.providerCode;
  }

  /** Node-RED shows Catch nodes `err.toString()`: keep it the plain message. */
  override toString(): string {
    return this.message;
  }

  toJSON(): PbxErrorDetails {
    const out: PbxErrorDetails = { message: this.message, code: this.code };
    if (this.status !== undefined) out.status = this.status;
    if (this.provider !== undefined) out.provider = this.provider;
    if (this.operation !== undefined) out.operation = this.operation;
    if (this.providerCode !== undefined) out.providerCode = this.providerCode;
    return out;
  }
}

/** An HTTP error status → error code; a provider's own code, if any, goes to `providerCode`. */
export function errorCodeOfStatus(status: number): ErrorCode {
  if (status === 400 || status === 422) return 'invalid_input';
  if (status === 401 || status === 403) return 'auth_failed';
  if (status === 404) return 'not_found';
  return 'provider_error';
}

/**
 * A 2xx answer that is not one `api` gives (not JSON, not its envelope, without the fields every
 * such answer has): the base URL most likely points at another server (a web page, a proxy, a
 * different API), so nothing may be read from it, least of all success. `what` says what was
 * missing, e.g. "no nums list".
 */
export function notTheApiError(operation: string, api: string, what: string, status?: number): PbxError {
  return new PbxError(
    'provider_error',
    `${operation}: the answer is not an answer of the ${api} (${what}); the base URL may not point at it: check it in the pbx-config node`,
    status === undefined ? {} : { status },
  );
}

export function isPbxError(err: unknown): err is PbxError {
  return err instanceof PbxError;
}

/**
 * Replaces every known secret (and its URL-encoded form) with `***`.
 * Every text that may leave the package (error, log, status, msg) goes through one of these.
 */
export class Redactor {
  private secrets: string[] = [];

  constructor(secrets: Iterable<string | undefined> = []) {
    for (const s of secrets) this.add(s);
  }

  add(secret: string | undefined): void {
    // Very short values would redact ordinary text; credentials are never that short in practice.
    if (!secret || secret.length < 4) return;
    for (const form of new Set([secret, encodeURIComponent(secret), encodeURI(secret)])) {
      if (!this.secrets.includes(form)) this.secrets.push(form);
    }
    this.secrets.sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }
}

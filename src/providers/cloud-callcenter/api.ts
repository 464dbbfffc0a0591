import { withToken, type TokenSource } from '../../core/auth';
import { errorCodeOfStatus, notTheApiError, PbxError, type ErrorCode } from '../../core/errors';
import { isRecord, recordOf, stringOf } from '../../core/fields';
import type { HttpResponse } from '../../core/http';
import { lookupTable } from '../../core/lookup';
import { tokenSourceOf, type ProviderContext } from '../../core/provider';

/** How errors name the API. */
const API_NAME = 'call center API (App.Sip_*)';
/** The vendor states a token lasts 12 hours. */
const TOKEN_LIFETIME_MS = 12 * 60 * 60 * 1000;
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** `ret` 600: the token is no longer valid. Business code 1010: "extension exception, log in again". */
const TOKEN_REJECTED = new Set(['600', '1010']);

/** Transport-level `ret` codes other than 200 (PhalApi envelope). */
const RET_ERRORS = lookupTable<{ code: ErrorCode; what: string }>({
  '400': { code: 'invalid_input', what: 'bad request' },
  '500': { code: 'provider_error', what: 'server error' },
  '600': { code: 'auth_failed', what: 'token not valid' },
  '601': { code: 'auth_failed', what: 'app id not authorized' },
  '602': { code: 'auth_failed', what: 'authorization expired' },
  '603': { code: 'auth_failed', what: 'module not licensed' },
  '604': { code: 'auth_failed', what: 'IP address not authorized' },
});

/**
 * Business error codes (`ret` 200, `data.status` 1, `data.errors.code`). The rule, the same for
 * every provider: `not_found` when the account has no such extension (missing, or another
 * account's), `provider_error` when the PBX refused because of its current state (the same
 * request may work later).
 */
const BUSINESS_ERRORS = lookupTable<{ code: ErrorCode; what: string }>({
  '1001': { code: 'provider_error', what: 'connect failed' },
  '1002': { code: 'provider_error', what: 'operation exception' },
  '1003': { code: 'provider_error', what: 'operation failed' },
  // Only reached when logging in again did not help: the vendor's remedy for 1010 is a new login.
  '1010': { code: 'auth_failed', what: 'extension exception; logging in again did not help' },
  // Not an extension of this account: to the account it is unknown, as on every provider.
  '1011': { code: 'not_found', what: 'extension does not belong to this account' },
  '1012': { code: 'not_found', what: 'extension does not exist' },
  // Disabled, unregistered, or not in a call: the extension's present state, which can change.
  '1013': { code: 'provider_error', what: 'extension disabled' },
  '1014': { code: 'provider_error', what: 'extension not registered' },
  '1015': { code: 'provider_error', what: 'extension not in a call' },
});

type Json = Record<string, unknown>;

export interface ServiceCall {
  /** Operation name for error texts. */
  operation: string;
  /** `App.<Module>.<Action>` */
  service: string;
  fields: Record<string, string | number | undefined>;
  stateChanging: boolean;
}

export interface ServiceAnswer {
  /** `data` of the envelope. */
  data: unknown;
  /** The whole response body, for msg.raw. */
  body: Json;
}

/**
 * The call center's form-data API for one account: every request is a multipart POST of
 * `service` + `token` + fields to the base URL, answered with `{ret, data, msg}`. Owns the login
 * token (12 h, one shared in-flight login, one re-login on `ret` 600).
 */
export class CallCenterApi {
  private readonly tokens: TokenSource;
  /** From the last login, for testConnection. */
  private company = '';

  constructor(private readonly ctx: ProviderContext) {
    this.tokens = tokenSourceOf(ctx, () => this.login(), { refreshMarginMs: REFRESH_MARGIN_MS });
  }

  /** Runs one service with a token; a rejected token is replaced once and the call repeated once. */
  call(req: ServiceCall): Promise<ServiceAnswer> {
    return withToken(
      this.tokens,
      (token) => this.post(req, { token }),
      (outcome) => outcome.error instanceof PbxError && TOKEN_REJECTED.has(outcome.error.providerCode ?? ''),
    );
  }

  /** Logs in afresh and names the company the credentials belong to. */
  async testConnection(): Promise<string> {
    this.tokens.clear();
    await this.tokens.get();
    return `connected as ${this.company || 'unnamed company'}`;
  }

  close(): void {
    this.tokens.clear();
  }

  private async login(): Promise<{ token: string; expiresInMs: number }> {
    const { appId, appKey } = this.ctx.settings.credentials;
    if (!appId || !appKey) throw new PbxError('auth_failed', 'app id and app key must both be set in the pbx-config node');
    const answer = await this.post(
      { operation: 'auth', service: 'App.Sip_Auth.Login', fields: { appid: appId, accesskey: appKey }, stateChanging: false },
      {},
    );
    const result = recordOf(recordOf(answer.data).result);
    const token = typeof result.token === 'string' ? result.token.trim() : '';
    if (!token) throw new PbxError('auth_failed', 'auth: App.Sip_Auth.Login answered without a token');
    this.ctx.redactor.add(token);
    this.company = stringOf(result.companyname) || stringOf(result.companycode);
    return { token, expiresInMs: TOKEN_LIFETIME_MS };
  }

  private async post(req: ServiceCall, auth: { token?: string }): Promise<ServiceAnswer> {
    const form = new FormData();
    form.append('service', req.service);
    if (auth.token) form.append('token', auth.token);
    for (const [k, v] of Object.entries(req.fields)) if (v !== undefined && v !== '') form.append(k, String(v));
    const res = await this.ctx.http.send({
      method: 'POST',
      path: '',
      body: form,
      operation: req.operation,
      stateChanging: req.stateChanging,
      // PhalApi servers may mirror `ret` in the HTTP status: read the envelope whatever the status.
      acceptStatus: () => true,
    });
    return unwrap(req, res, this.ctx.http.describe('/'));
  }
}

/** Checks the envelope and the business status; returns `data` or throws the mapped PbxError. */
function unwrap(req: Pick<ServiceCall, 'operation' | 'service'>, res: HttpResponse, where: string): ServiceAnswer {
  const body = res.data;
  if (!isRecord(body) || body.ret === undefined) {
    if (res.status >= 200 && res.status < 300) {
      throw notTheApiError(req.operation, API_NAME, `${where} answered ${req.service} without the {ret, data, msg} envelope`, res.status);
    }
    throw new PbxError(errorCodeOfStatus(res.status), `${req.operation}: ${where} answered ${req.service} with HTTP ${res.status}`, {
      status: res.status,
    });
  }
  const ret = stringOf(body.ret);
  const msg = stringOf(body.msg);
  if (ret !== '200') {
    const known = RET_ERRORS.get(ret) ?? { code: 'provider_error' as ErrorCode, what: 'error' };
    const detail = msg ? `: ${msg}` : '';
    throw new PbxError(known.code, `${req.operation}: ${req.service} failed, ret ${ret} (${known.what})${detail}`, {
      status: res.status,
      providerCode: ret,
    });
  }
  const data = body.data;
  if (isRecord(data) && data.status !== undefined && stringOf(data.status) !== '0') {
    const errors = recordOf(Array.isArray(data.errors) ? data.errors[0] : data.errors);
    const code = stringOf(errors.code) || stringOf(data.status);
    const known = BUSINESS_ERRORS.get(code) ?? { code: 'provider_error' as ErrorCode, what: 'business error' };
    const reason = stringOf(errors.codemsg) || stringOf(data.desc) || msg || known.what;
    throw new PbxError(known.code, `${req.operation}: ${req.service} refused, code ${code}: ${reason}`, {
      status: res.status,
      providerCode: code,
    });
  }
  return { data, body };
}

/**
 * The list a service returned, whichever shape it uses: `data` itself (GetGroupExt) or
 * `data.result` (GetQueueSipStatus).
 */
export function rowsOf(data: unknown): Json[] {
  const list = Array.isArray(data) ? data : isRecord(data) && Array.isArray(data.result) ? data.result : [];
  return list.filter(isRecord);
}

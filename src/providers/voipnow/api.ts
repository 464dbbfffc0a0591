import { withToken, type TokenSource } from '../../core/auth';
import { notTheApiError, PbxError } from '../../core/errors';
import { joinPath, type HttpMethod, type HttpResponse, type PathParam } from '../../core/http';
import type { ProviderContext } from '../../core/provider';
import { API_NAME, vendorError } from './errors';
import { createTokenCache } from './oauth';

/**
 * Checks a 2xx answer that has a body against what the UnifiedAPI answers there (`accepts`);
 * one that is not (`{}` or `{"status":"ok"}` from some other server) means the base URL is not
 * the UnifiedAPI, and nothing may be read from it. 204 and empty bodies are the API's "nothing".
 */
export function expectAnswer(operation: string, res: HttpResponse, accepts: (data: unknown) => boolean, what: string): void {
  if (res.status === 204 || res.text.trim() === '') return;
  if (!accepts(res.data)) throw notTheApiError(operation, API_NAME, `an answer without ${what}`, res.status);
}

/** Marks the `@self` segment ("every extension of the user"): sent literally, not encoded. */
export const SELF = Symbol('@self');
/** A fixed API word, a value from input (`pathParam('callId', id)`), or `@self`. */
export type Segment = string | PathParam | typeof SELF;

/**
 * `/uapi/{resource}/@me/{segments...}`: `@me` and `@self` are fixed API words, every other
 * segment (extensions such as `0003*210`, call ids) goes through `joinPath`, which refuses
 * empty and dot segments naming the parameter.
 */
export function uapiPath(resource: 'extensions' | 'phoneCalls', ...segments: Segment[]): string {
  return `/uapi/${resource}/@me` + segments.map((s) => (s === SELF ? '/@self' : joinPath(s))).join('');
}

export interface UapiRequest {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  operation: string;
  /** Call control and queue changes: sent once, never retried; a lost answer is `outcome_unknown`. */
  stateChanging: boolean;
}

/**
 * The UnifiedAPI with its bearer token: one cached token per account, a 401 drops it and the
 * request is sent once more with a new one, and every error body becomes a PbxError that keeps
 * the vendor code (`extension_invalid`, ...) and message.
 */
export class UapiClient {
  readonly tokens: TokenSource;

  constructor(private readonly ctx: ProviderContext) {
    this.tokens = createTokenCache(ctx);
  }

  send(req: UapiRequest): Promise<HttpResponse> {
    return withToken(
      this.tokens,
      (token) => this.once(req, token),
      ({ error }) => error instanceof PbxError && error.status === 401,
    );
  }

  private async once(req: UapiRequest, token: string): Promise<HttpResponse> {
    const res = await this.ctx.http.send({
      method: req.method,
      path: req.path,
      query: req.query,
      body: req.body,
      headers: { Authorization: `Bearer ${token}` },
      operation: req.operation,
      stateChanging: req.stateChanging,
      // Every status comes back here, so the vendor's error body can be read.
      acceptStatus: () => true,
    });
    if (res.status >= 200 && res.status < 300) {
      // An answer of 200 with HTML (a login page, a proxy) must not pass for an empty list, nor for
      // a call placed: the UnifiedAPI answers JSON or nothing.
      if (res.text.trim() !== '' && (typeof res.data !== 'object' || res.data === null)) {
        throw notTheApiError(req.operation, API_NAME, `HTTP ${res.status} with a body that is not JSON`, res.status);
      }
      return res;
    }
    throw vendorError(req.operation, res, this.ctx.redactor.redact.bind(this.ctx.redactor));
  }
}

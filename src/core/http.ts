import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { PbxError, type Redactor } from './errors';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Path relative to baseUrl, starting with '/', or '' for baseUrl itself. Build it with `joinPath`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Plain object → JSON; URLSearchParams → form-urlencoded; FormData → multipart. */
  body?: unknown;
  /** Operation name, used in error texts. */
  operation: string;
  /** Retry transient failures with backoff (status queries only). */
  retry: boolean;
  /** Changes PBX state: a lost response is `outcome_unknown`, never retried. */
  stateChanging: boolean;
  /** Statuses handed back to the caller instead of raising; default 2xx. */
  acceptStatus?: (status: number) => boolean;
}

export interface HttpResponse {
  status: number;
  /** JSON-parsed body when it parses, else the text ('' for none). */
  data: unknown;
  text: string;
  headers: Record<string, string>;
}

export interface HttpClientOptions {
  baseUrl: string;
  timeout: number;
  rejectUnauthorized: boolean;
  redactor: Redactor;
  /** Delays before each retry; its length is the number of retries. */
  retryDelaysMs?: number[];
}

const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);
/** Errors raised before any byte of the request can have reached the server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED/;

/** Joins path segments, encoding each one: `joinPath('uapi', '@me', 'a/b')` → `/uapi/%40me/a%2Fb`. */
export function joinPath(...segments: Array<string | number>): string {
  return '/' + segments.map((s) => encodeURIComponent(String(s))).join('/');
}

/**
 * The one HTTP client every provider uses: per-account timeout and TLS policy (never
 * process-wide), keep-alive, retry policy per request, relative URLs only, redacted errors.
 */
export class HttpClient {
  private readonly axios: AxiosInstance;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly retryDelaysMs: number[];
  /** Set by `close`: nothing is sent any more, requests in flight are aborted, backoff waits end. */
  private closed = false;
  /** Bumped by `interrupt`: a request begun before it is not retried or answered any more. */
  private generation = 0;
  private readonly inFlight = new Set<AbortController>();
  private readonly waking = new Set<() => void>();
  readonly baseUrl: string;
  readonly redactor: Redactor;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.redactor = options.redactor;
    this.retryDelaysMs = options.retryDelaysMs ?? [250, 1000];
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: options.rejectUnauthorized }),
    };
    this.axios = axios.create({
      baseURL: this.baseUrl,
      allowAbsoluteUrls: false,
      timeout: options.timeout,
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
      maxRedirects: 0,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      proxy: false,
    });
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    // '' is the base URL itself (APIs with one endpoint); anything else is a path below it.
    if (req.path !== '' && (!req.path.startsWith('/') || req.path.startsWith('//'))) {
      throw new PbxError('invalid_input', `${req.operation}: request path must be relative to the base URL`);
    }
    const attempts = req.retry && !req.stateChanging ? this.retryDelaysMs.length + 1 : 1;
    let lastError: PbxError | undefined;
    const generation = this.generation;
    const cutOff = () => this.closed || generation !== this.generation;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await this.pause(jitter(this.retryDelaysMs[attempt - 1]));
      if (cutOff()) throw this.closedError(req, false);
      let response: HttpResponse;
      try {
        response = await this.once(req);
      } catch (err) {
        const failure = cutOff() ? this.closedError(req, true) : this.transportError(req, err);
        if (!failure.retryable) throw failure;
        lastError = failure;
        continue;
      }
      const isLastAttempt = attempt === attempts - 1;
      if (TRANSIENT_STATUSES.has(response.status) && !isLastAttempt) {
        lastError = this.statusError(req, response);
        continue;
      }
      const accept = req.acceptStatus ?? ((s: number) => s >= 200 && s < 300);
      if (!accept(response.status)) throw this.statusError(req, response);
      return response;
    }
    throw lastError ?? new PbxError('provider_error', `${req.operation}: request failed`);
  }

  /** A description of the target safe to show: base URL and path with every secret redacted. */
  describe(path: string): string {
    return this.redactor.redact(this.baseUrl + path);
  }

  /**
   * Ends the client for good (its config node was closed: redeploy or shutdown): requests in flight
   * are aborted, retries and token requests waiting for their turn are not sent, sockets are closed.
   */
  close(): void {
    this.closed = true;
    this.interrupt();
  }

  /**
   * Ends what the closed nodes had begun (requests in flight, retries and token requests waiting)
   * and drops the idle sockets, but stays usable: the account outlives a redeploy of its node.
   */
  interrupt(): void {
    this.generation++;
    for (const controller of this.inFlight) controller.abort();
    for (const wake of this.waking) wake();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** Waits `ms` between attempts; ends early when the client is closed. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waking.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waking.add(wake);
    });
  }

  private closedError(req: HttpRequest, wasSent: boolean): PbxError & { retryable: boolean } {
    const error = (
      wasSent && req.stateChanging
        ? new PbxError(
            'outcome_unknown',
            `${req.operation}: the pbx-config node was closed (redeploy or shutdown) while waiting for the answer; it may or may not have taken effect and was not repeated`,
          )
        : new PbxError('unreachable', `${req.operation}: not sent, the pbx-config node was closed (redeploy or shutdown)`)
    ) as PbxError & { retryable: boolean };
    error.retryable = false;
    return error;
  }

  private async once(req: HttpRequest): Promise<HttpResponse> {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) params[k] = String(v);
    const controller = new AbortController();
    this.inFlight.add(controller);
    let res: AxiosResponse<string>;
    try {
      res = await this.axios.request({
        method: req.method,
        url: req.path,
        params,
        headers: { Accept: 'application/json', ...req.headers },
        data: req.body,
        signal: controller.signal,
      });
    } finally {
      this.inFlight.delete(controller);
    }
    const text = typeof res.data === 'string' ? res.data : '';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers ?? {})) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    return { status: res.status, text, data: parseJson(text), headers };
  }

  private statusError(req: HttpRequest, res: HttpResponse): PbxError {
    const code = res.status === 401 || res.status === 403 ? 'auth_failed' : res.status === 404 ? 'not_found' : 'provider_error';
    const detail = res.text ? `: ${truncate(res.text.replace(/\s+/g, ' '), 200)}` : '';
    return new PbxError(
      code,
      this.redactor.redact(`${req.operation}: ${req.method} ${this.describe(req.path)} answered HTTP ${res.status}${detail}`),
      { status: res.status },
    );
  }

  private transportError(req: HttpRequest, err: unknown): PbxError & { retryable: boolean } {
    const e = err as { code?: string; message?: string };
    const code = e.code ?? '';
    const where = `${req.method} ${this.describe(req.path)}`;
    let out: PbxError;
    let retryable = req.retry && !req.stateChanging;
    if (NOT_SENT_CODES.has(code)) {
      out = new PbxError('unreachable', `${req.operation}: cannot reach ${where} (${code})`);
    } else if (TLS_CODE.test(code)) {
      out = new PbxError(
        'unreachable',
        `${req.operation}: TLS error on ${where} (${code}); self-signed PBX certificates need "reject unauthorized" off in the config node`,
      );
      retryable = false;
    } else if (req.stateChanging) {
      const why = TIMEOUT_CODES.has(code) ? 'timed out' : `lost the connection (${code || 'no response'})`;
      out = new PbxError(
        'outcome_unknown',
        `${req.operation}: ${where} ${why} after the request was sent; it may or may not have taken effect and was not repeated`,
      );
    } else if (TIMEOUT_CODES.has(code)) {
      out = new PbxError('timeout', `${req.operation}: ${where} timed out`);
    } else {
      out = new PbxError('unreachable', `${req.operation}: ${where} failed (${code || 'network error'})`);
    }
    const redacted = new PbxError(out.code, this.redactor.redact(out.message)) as PbxError & { retryable: boolean };
    redacted.retryable = retryable;
    return redacted;
  }
}

export function parseJson(text: string): unknown {
  const t = text.trim();
  if (!t || (t[0] !== '{' && t[0] !== '[' && t[0] !== '"')) return text;
  try {
    return JSON.parse(t);
  } catch {
    return text;
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) + '…' : s;
}

function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

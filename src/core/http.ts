import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { errorCodeOfStatus, PbxError, type Redactor } from './errors';

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
  /**
   * Changes PBX state: sent once, a lost response is `outcome_unknown`. Otherwise (status queries,
   * token requests) transient failures are retried with backoff.
   */
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

/**
 * The largest answer read from a provider, counted after decompression; reading stops and the
 * connection is closed as soon as an answer goes past it. The largest real answers are pages of
 * presence lists (up to 5000 entries of ~250–600 bytes: 1.2–3 MB at worst) and lists of every
 * extension or call (tens to hundreds of KB); README "Security and limits" names them.
 */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** setTimeout fires at once for anything longer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);
/** Errors raised before any byte of the request can have reached the server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);
/** Certificate and TLS errors Node reports while verifying the server, before anything is sent. */
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED/;
/**
 * What OpenSSL says (under Node's generic `EPROTO`) when the handshake itself fails: the request
 * was never sent. `wrong version number` / `packet length too long`: plain HTTP answered a TLS
 * hello (an https URL on an http port).
 */
const TLS_HANDSHAKE =
  /wrong version number|packet length too long|unknown protocol|unsupported protocol|handshake failure|no protocols available/i;
const PLAIN_HTTP = /wrong version number|packet length too long|unknown protocol/i;

const actionDeadline = new AsyncLocalStorage<number>();

/**
 * Runs one action under a total deadline (`deadlineMs` from now): every request it sends, however
 * many (a token first, a refresh after a 401, a read before a transfer, pages, retries), ends by
 * then; a request that would begin after it is not sent (`timeout`).
 */
export function withActionDeadline<T>(deadlineMs: number, work: () => Promise<T>): Promise<T> {
  return actionDeadline.run(Date.now() + deadlineMs, work);
}

/** A path segment taken from input: its name is what an error about its value talks about. */
export interface PathParam {
  readonly name: string;
  readonly value: string | number;
}

export function pathParam(name: string, value: string | number): PathParam {
  return { name, value };
}

/**
 * Joins path segments, encoding each one: `joinPath('uapi', '@me', pathParam('callId', 'a/b'))` →
 * `/uapi/%40me/a%2Fb`. A segment that is empty, `.` or `..` (also percent-encoded, in any case)
 * is refused with `invalid_input` naming it: URL resolution (WHATWG, and servers) would drop it
 * or climb one level, so the request would reach another resource (`drop` with callId `..`
 * would hang up every call of the extension).
 */
export function joinPath(...segments: Array<string | number | PathParam>): string {
  return '/' + segments.map(encodeSegment).join('/');
}

function encodeSegment(segment: string | number | PathParam): string {
  const { name, value } = typeof segment === 'object' ? segment : { name: 'path segment', value: segment };
  const text = String(value);
  if (isDotOrEmpty(text)) {
    throw new PbxError('invalid_input', `${name} must not be empty, "." or ".." (nor their percent-encoded forms) in a request path`);
  }
  return encodeURIComponent(text);
}

/** `''`, `.`, `..`, with dots written as `%2e` / `%2E` (or encoded again: `%252e`, ...). */
function isDotOrEmpty(segment: string): boolean {
  const dotted = segment.replace(/%(?:25)*2e/gi, '.');
  return dotted === '' || dotted === '.' || dotted === '..';
}

/** The deadline of one attempt ran out (connect, send, headers and the whole body together). */
class DeadlineExceeded extends Error {}

/** The answer went past MAX_ANSWER_BYTES: reading stopped, the connection was closed. */
class AnswerTooLarge extends Error {
  constructor(readonly status: number) {
    super('answer too large');
  }
}

/**
 * The one HTTP client every provider (and every token request) uses: per-account timeout and TLS
 * policy (never process-wide), keep-alive, retry policy per request, relative URLs only, answers
 * of at most MAX_ANSWER_BYTES, redacted errors.
 *
 * Deadlines: each attempt has a total deadline of `timeout` ms for connecting, sending, the
 * headers and the whole body, enforced by a timer that aborts it (not by socket idle time, which
 * a provider sending one byte a second never reaches). A state-changing request makes one attempt,
 * so it ends within `timeout`; when the deadline hits it, it may have been sent, so it is
 * `outcome_unknown` and never repeated. A status query (or token request) that hits it is
 * `timeout` and is tried again after each of `retryDelaysMs` (±20% jitter), so one `send` ends
 * within `(retryDelaysMs.length + 1) × timeout + 1.2 × Σ retryDelaysMs` — with the defaults,
 * `3 × timeout + 1.5 s`. An action that needs several requests (a token first, a read before a
 * transfer, several pages) is bounded by the sum of its sends.
 */
export class HttpClient {
  private readonly axios: AxiosInstance;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly retryDelaysMs: number[];
  private readonly timeout: number;
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
    this.timeout = Math.min(options.timeout, MAX_TIMER_MS);
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: options.rejectUnauthorized }),
    };
    this.axios = axios.create({
      baseURL: this.baseUrl,
      allowAbsoluteUrls: false,
      // The deadline is ours (see `once`): axios's timeout only watches for an idle socket.
      timeout: 0,
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
      maxRedirects: 0,
      // Read as a stream, so the size limit and the deadline apply while the body arrives.
      responseType: 'stream',
      validateStatus: () => true,
      proxy: false,
    });
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    // '' is the base URL itself (APIs with one endpoint); anything else is a path below it.
    if (req.path !== '' && (!req.path.startsWith('/') || req.path.startsWith('//'))) {
      throw new PbxError('invalid_input', `${req.operation}: request path must be relative to the base URL`);
    }
    if (req.path !== '' && req.path.slice(1).split('/').some(isDotOrEmpty)) {
      throw new PbxError('invalid_input', `${req.operation}: request path must not have an empty, "." or ".." segment`);
    }
    const attempts = req.stateChanging ? 1 : this.retryDelaysMs.length + 1;
    let lastError: PbxError | undefined;
    const generation = this.generation;
    const cutOff = () => this.closed || generation !== this.generation;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await this.pause(jitter(this.retryDelaysMs[attempt - 1]));
      if (cutOff()) throw this.closedError(req, false);
      if (this.msLeft() <= 0) throw lastError ?? this.deadlinePassed(req);
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

  /** What is left of the current action's total deadline (unbounded outside an action). */
  private msLeft(): number {
    const at = actionDeadline.getStore();
    return at === undefined ? Infinity : at - Date.now();
  }

  private deadlinePassed(req: HttpRequest): PbxError {
    return new PbxError('timeout', `${req.operation}: not sent, the action's deadline passed`);
  }

  /**
   * The total deadline of one action: what one status query may take with all its retries,
   * `(retries + 1) × timeout + 1.2 × Σ retry delays` (3 × timeout + 1.5 s by default). An action
   * that needs several requests shares it among them.
   */
  get actionDeadlineMs(): number {
    const backoff = this.retryDelaysMs.reduce((a, b) => a + b, 0) * 1.2;
    return (this.retryDelaysMs.length + 1) * this.timeout + Math.ceil(backoff);
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

  /** One attempt within the deadline: the answer read whole, or at most MAX_ANSWER_BYTES of it. */
  private async once(req: HttpRequest): Promise<HttpResponse> {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) params[k] = String(v);
    const controller = new AbortController();
    const deadline = setTimeout(() => controller.abort(new DeadlineExceeded()), Math.max(1, Math.min(this.timeout, this.msLeft())));
    this.inFlight.add(controller);
    let res: AxiosResponse<Readable> | undefined;
    try {
      res = await this.axios.request<Readable>({
        method: req.method,
        url: req.path,
        params,
        headers: { Accept: 'application/json', ...req.headers },
        data: req.body,
        signal: controller.signal,
      });
      const body = await readAtMost(res.data, res.status, declaredLength(res.headers), controller.signal);
      const text = stripBom(body.toString('utf8'));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers ?? {})) if (typeof v === 'string') headers[k.toLowerCase()] = v;
      return { status: res.status, text, data: parseJson(text), headers };
    } catch (err) {
      // Whatever stopped the answer, its connection is not reused.
      (res?.request as { destroy?: () => void } | undefined)?.destroy?.();
      throw controller.signal.reason instanceof DeadlineExceeded ? controller.signal.reason : err;
    } finally {
      clearTimeout(deadline);
      this.inFlight.delete(controller);
    }
  }

  private statusError(req: HttpRequest, res: HttpResponse): PbxError {
    const detail = res.text ? `: ${truncate(res.text.replace(/\s+/g, ' '), 200)}` : '';
    return new PbxError(
      errorCodeOfStatus(res.status),
      this.redactor.redact(`${req.operation}: ${req.method} ${this.describe(req.path)} answered HTTP ${res.status}${detail}`),
      { status: res.status },
    );
  }

  private transportError(req: HttpRequest, err: unknown): PbxError & { retryable: boolean } {
    const e = err as { code?: string; message?: string };
    const code = e.code ?? '';
    const where = `${req.method} ${this.describe(req.path)}`;
    const notRepeated = 'it may or may not have taken effect and was not repeated';
    let out: PbxError;
    let retryable = !req.stateChanging;
    if (err instanceof AnswerTooLarge) {
      // For a state-changing request the provider did process it, and only the answer tells
      // success from failure (a result flag, a return code, an error body): unknown,
      // so that nobody repeats a makecall that placed a call. A status query just failed.
      const what = `${where} sent an answer larger than ${MAX_ANSWER_BYTES} bytes (HTTP ${err.status}); reading stopped`;
      out = req.stateChanging
        ? new PbxError('outcome_unknown', `${req.operation}: ${what}; ${notRepeated}`, { status: err.status })
        : new PbxError('provider_error', `${req.operation}: ${what}`, { status: err.status });
      retryable = false;
    } else if (err instanceof DeadlineExceeded) {
      const what = `${where} gave no complete answer in time (timeout ${this.timeout} ms; ${this.actionDeadlineMs} ms per action)`;
      // Even a deadline hit while connecting counts as maybe sent: the client cannot tell.
      out = req.stateChanging
        ? new PbxError('outcome_unknown', `${req.operation}: ${what}; the request may have reached it, ${notRepeated}`)
        : new PbxError('timeout', `${req.operation}: ${what}`);
    } else if (NOT_SENT_CODES.has(code)) {
      out = new PbxError('unreachable', `${req.operation}: cannot reach ${where} (${code})`);
    } else if (isTlsHandshakeFailure(code, e.message ?? '')) {
      out = new PbxError('unreachable', `${req.operation}: ${tlsFailureText(where, code, e.message ?? '')}`);
      retryable = false;
    } else if (req.stateChanging) {
      const why = TIMEOUT_CODES.has(code) ? 'timed out' : `lost the connection (${code || 'no response'})`;
      out = new PbxError('outcome_unknown', `${req.operation}: ${where} ${why} after the request was sent; ${notRepeated}`);
    } else if (TIMEOUT_CODES.has(code)) {
      out = new PbxError('timeout', `${req.operation}: ${where} timed out`);
    } else {
      out = new PbxError('unreachable', `${req.operation}: ${where} failed (${code || 'network error'})`);
    }
    const redacted = new PbxError(out.code, this.redactor.redact(out.message), out.toJSON()) as PbxError & { retryable: boolean };
    redacted.retryable = retryable;
    return redacted;
  }
}

function isTlsHandshakeFailure(code: string, message: string): boolean {
  return TLS_CODE.test(code) || (code === 'EPROTO' && TLS_HANDSHAKE.test(message));
}

/** What failed in the handshake, that nothing was sent, and what to check. */
function tlsFailureText(where: string, code: string, message: string): string {
  if (PLAIN_HTTP.test(message)) {
    const reason = PLAIN_HTTP.exec(message)?.[0].toLowerCase() ?? '';
    return (
      `TLS handshake with ${where} failed (${code}: ${reason}); nothing was sent. The server speaks plain HTTP on that port: ` +
      'use http:// instead of https:// in the base URL, or the port that serves HTTPS'
    );
  }
  const verifyOff = `"Verify the server's TLS certificate" (rejectUnauthorized) off in the pbx-config node`;
  let hint = 'Check that the base URL names the server and port that serve HTTPS';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    hint = `The certificate names another host: use the host name it was issued for in the base URL, or turn ${verifyOff}`;
  } else if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET/.test(code)) {
    hint = `A self-signed, expired or private-CA PBX certificate needs ${verifyOff}, or a valid certificate on the PBX`;
  }
  return `TLS handshake with ${where} failed (${code}); nothing was sent. ${hint}`;
}

/**
 * Reads `body` whole, or fails with AnswerTooLarge as soon as it (or its stated length) goes
 * past MAX_ANSWER_BYTES, and with the signal's reason when it is aborted; either way the stream
 * is destroyed, so nothing more is read.
 */
async function readAtMost(body: Readable, status: number, declared: number | undefined, signal: AbortSignal): Promise<Buffer> {
  // Errors surface through the loop below; none may reach the process as an unhandled 'error'.
  body.on('error', () => undefined);
  const stop = () => body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', stop);
  try {
    if (signal.aborted) throw signal.reason;
    if (declared !== undefined && declared > MAX_ANSWER_BYTES) throw new AnswerTooLarge(status);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) throw new AnswerTooLarge(status);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size);
  } catch (err) {
    body.destroy();
    throw err;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

function declaredLength(headers: AxiosResponse['headers']): number | undefined {
  const value = Number(headers?.['content-length']);
  return Number.isFinite(value) ? value : undefined;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseJson(text: string): unknown {
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

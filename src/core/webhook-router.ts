import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { isRecord } from './fields';
import { readBody } from './request-body';
import { repairJson } from './tolerant-json';
import type { WebhookInput } from './types';

/**
 * Most bytes a webhook may send: query string and body together (the query becomes part of the
 * event too). Counted as received, chunked or not; one byte more is answered 413.
 */
export const WEBHOOK_BODY_LIMIT = 64 * 1024;
/**
 * Time from a webhook request's arrival by which its whole body must have been received. A PBX
 * sends a few KiB at once; a client dribbling bytes would otherwise hold a connection and a
 * buffer for Node's 300 s request timeout. Past it: 408 and the connection closed.
 */
export const WEBHOOK_READ_DEADLINE_MS = 10_000;
/**
 * Webhook bodies one endpoint receives at once. Bounds what clients that send slowly (at most
 * 64 KiB each, each for at most the read deadline) can hold; one more is answered 503 with
 * Retry-After, as when a delivery cannot be taken now. Deliveries are read in milliseconds, so
 * a PBX never comes near it.
 */
export const WEBHOOK_MAX_OPEN_READS = 64;
/**
 * A rejected request's connection is closed (`Connection: close`: Node ends it once the reply
 * is written). One still open this long after the reply (a client that does not read it) is
 * destroyed.
 */
export const REJECTED_CONNECTION_GRACE_MS = 1000;
/**
 * Deepest nesting of objects and arrays a webhook body may have. PBX payloads are two or three
 * levels deep; a body thousands of levels deep parses, but overflows the stack of whatever walks
 * it next (Node-RED's message cloning, JSON.stringify in a flow), so it is answered 400.
 */
export const WEBHOOK_MAX_DEPTH = 32;
/** What a 503 tells the PBX to wait before delivering again. */
export const RETRY_AFTER_SECONDS = 5;

/** What the router needs of an Express request (Node-RED's httpNode is an Express app). */
export interface RouterRequest extends IncomingMessage {
  body?: unknown;
  _body?: boolean;
  ip?: string;
}
type Next = (err?: unknown) => void;
export type Middleware = (req: RouterRequest, res: ServerResponse, next: Next) => void;

/** The part of an Express app the router uses. */
export interface MountableApp {
  use(handler: Middleware): unknown;
}

/** The part of Node's http(s) server (Node-RED's `RED.server`) the router uses. */
export interface RequestSource {
  prependListener(event: 'request', listener: (req: IncomingMessage, res: ServerResponse) => void): unknown;
}

/** Where Node-RED's httpNode app is served: its server, and the httpNodeRoot it is mounted on. */
export interface ServedAt {
  server: RequestSource;
  nodeRoot: string;
}

export interface WebhookLimits {
  readDeadlineMs: number;
  maxOpenReads: number;
}

export const DEFAULT_WEBHOOK_LIMITS: WebhookLimits = {
  readDeadlineMs: WEBHOOK_READ_DEADLINE_MS,
  maxOpenReads: WEBHOOK_MAX_OPEN_READS,
};

export interface WebhookEndpointOptions {
  /** Path under Node-RED's httpNodeRoot, e.g. `/pbx/3f9a`. */
  path: string;
  secret?: string;
  /** Comma-separated IPs and CIDRs; empty = any address. */
  allowFrom?: string;
  /**
   * Comma-separated IPs and CIDRs of reverse proxies whose `X-Forwarded-For` is believed (see
   * `clientAddressOf`); empty = the header is ignored.
   */
  trustedProxies?: string;
  /**
   * Called once per request that passed every check. It must answer through `reply` exactly once:
   * 200 once the delivery is taken (before flow processing), 503 when it cannot be taken now.
   */
  onDelivery(input: WebhookInput, fingerprint: string, reply: DeliveryReply): void;
  /** Called for every rejected request (already answered), for a rate-limited warning. */
  onRejected(status: number, reason: string, remoteAddress: string): void;
}

/** Answers an accepted webhook request: 200 taken, 503 try again later. Later calls are ignored. */
export type DeliveryReply = (status: 200 | 503) => void;

interface Endpoint extends WebhookEndpointOptions {
  allow: BlockList | null;
  trusted: BlockList | null;
  /** Bodies being received now. */
  openReads: number;
}

export class WebhookPathConflictError extends Error {}

/**
 * Serves every pbx-config webhook endpoint of one Node-RED instance from a single middleware
 * mounted once on RED.httpNode, with a path → endpoint map. Registering and unregistering only
 * touch the map, so redeploys never leave a route behind or add a second one.
 */
export class WebhookRouter {
  private readonly endpoints = new Map<string, Endpoint>();
  /** Arrival time of each request claimed where it reached the server (see `claimOn`). */
  private readonly claimed = new WeakMap<IncomingMessage, number>();
  private readonly limits: WebhookLimits;

  constructor(
    private readonly middleware: Middleware[] = [],
    limits: Partial<WebhookLimits> = {},
  ) {
    this.limits = { ...DEFAULT_WEBHOOK_LIMITS, ...limits };
  }

  get paths(): string[] {
    return [...this.endpoints.keys()];
  }

  /** Adds an endpoint; returns the function that removes it. */
  register(options: WebhookEndpointOptions): () => void {
    const path = normalizePath(options.path);
    if (this.endpoints.has(path)) throw new WebhookPathConflictError(`webhook path ${path} is already used by another pbx-config`);
    const endpoint: Endpoint = {
      ...options,
      path,
      allow: addressList(options.allowFrom, 'allowFrom'),
      trusted: addressList(options.trustedProxies, 'trustedProxies'),
      openReads: 0,
    };
    this.endpoints.set(path, endpoint);
    return () => {
      if (this.endpoints.get(path) === endpoint) this.endpoints.delete(path);
    };
  }

  /**
   * Claims this router's requests where they reach the HTTP server, before any middleware runs.
   * Under Node-RED's default settings the admin app is mounted on '/' in front of the httpNode
   * app, and its JSON and form body parsers (5 MB, no deadline) read every request's body before
   * a node route sees it: a chunked body of any size up to 5 MB was parsed and could only be
   * guessed at afterwards, and a dribbled one held for minutes. A claimed request is marked as
   * already parsed (`req._body`, the flag body parsers skip a request on), so its body stays on
   * the wire until the router reads it itself with its byte limit and deadline: what is sized is
   * what was received, the same in both root layouts, and the deadline counts from here.
   * The listener only looks at the URL: it adds no stream listener (a 'data' listener would start
   * the stream flowing before anyone reads it), and other requests cost one map lookup.
   */
  claimOn(server: RequestSource, nodeRoot = '/'): void {
    const root = normalizePath(nodeRoot);
    server.prependListener('request', (req: RouterRequest) => {
      if (this.endpoints.size === 0) return;
      const url = underRoot(req.url ?? '/', root);
      if (url === undefined || !this.match(url, req)) return;
      req._body = true;
      this.claimed.set(req, Date.now());
    });
  }

  readonly handle: Middleware = (req, res, next) => {
    const match = this.match(req.url ?? '/', req);
    if (!match) return next();
    const arrivedAt = this.claimed.get(req) ?? Date.now();
    this.runMiddleware(0, req, res, (err?: unknown) => {
      if (err) return next(err);
      this.serve(match.endpoint, match.presentedSecret, req, res, arrivedAt);
    });
  };

  private runMiddleware(i: number, req: RouterRequest, res: ServerResponse, done: Next): void {
    const mw = this.middleware[i];
    if (!mw) return done();
    mw(req, res, (err?: unknown) => (err ? done(err) : this.runMiddleware(i + 1, req, res, done)));
  }

  private match(url: string, req: RouterRequest): { endpoint: Endpoint; presentedSecret?: string } | undefined {
    if (this.endpoints.size === 0) return undefined;
    const pathname = normalizePath(url.split('?')[0]);
    const header = req.headers['x-webhook-secret'];
    const headerSecret = typeof header === 'string' ? header : undefined;
    const exact = this.endpoints.get(pathname);
    if (exact) return { endpoint: exact, presentedSecret: headerSecret };
    const cut = pathname.lastIndexOf('/');
    if (cut <= 0) return undefined;
    const parent = this.endpoints.get(pathname.slice(0, cut));
    if (!parent || !parent.secret) return undefined;
    let segment: string;
    try {
      segment = decodeURIComponent(pathname.slice(cut + 1));
    } catch {
      segment = pathname.slice(cut + 1);
    }
    return { endpoint: parent, presentedSecret: segment };
  }

  private serve(endpoint: Endpoint, presentedSecret: string | undefined, req: RouterRequest, res: ServerResponse, arrivedAt: number): void {
    const remote = remoteAddressOf(req, endpoint.trusted);
    // Every rejection closes the connection: a client that keeps sending is not read further.
    const reject = (status: number, reason: string, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close', ...headers });
      res.end(status === 401 ? 'Unauthorized' : reason);
      closeSoon(req);
      endpoint.onRejected(status, reason, remote);
    };
    if (endpoint.allow && !addressAllowed(endpoint.allow, remote)) return reject(401, 'address not allowed');
    if (endpoint.secret && !secretMatches(endpoint.secret, presentedSecret)) return reject(401, 'missing or wrong secret');
    const method = req.method ?? '';
    if (method !== 'GET' && method !== 'POST') return reject(405, 'method not allowed', { Allow: 'GET, POST' });
    const rawUrl = req.url ?? '';
    const q = rawUrl.indexOf('?');
    const rawQuery = q >= 0 ? rawUrl.slice(q + 1) : '';
    const budget = WEBHOOK_BODY_LIMIT - Buffer.byteLength(rawQuery);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (budget < 0 || declared > budget) return reject(413, 'payload too large');

    const deliver = (body: unknown, bodyText: string) => {
      if (body !== undefined && typeof body !== 'string' && !isRecord(body)) return reject(400, 'body is not an object');
      const input: WebhookInput = {
        method: method as 'GET' | 'POST',
        query: parseForm(rawQuery),
        rawQuery,
        body,
        receivedAt: new Date(),
      };
      const fingerprint = `${method}\n${rawQuery}\n${bodyText}`;
      let replied = false;
      const reply: DeliveryReply = (status) => {
        if (replied) return;
        replied = true;
        if (status === 200) {
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end('OK');
        } else {
          res.writeHead(503, {
            'Content-Type': 'text/plain; charset=utf-8',
            'Retry-After': String(RETRY_AFTER_SECONDS),
            Connection: 'close',
          });
          res.end('Service Unavailable');
        }
      };
      try {
        endpoint.onDelivery(input, fingerprint, reply);
      } catch {
        // The endpoint guards its own pipeline; this is the last line that keeps a request from crashing Node-RED.
        reply(200);
      }
    };

    if (req.readableEnded || (req._body === true && !this.claimed.has(req))) {
      // A body parser outside the router read the body (Node-RED's default roots, where the router
      // could not claim the request at the server): all that is left to size is what it parsed.
      const body = req.body;
      if (!withinDepth(body, WEBHOOK_MAX_DEPTH)) return reject(400, 'body nested too deeply');
      const bodyText = safeStringify(body);
      const received = req.headers['content-length'] !== undefined ? declared : Buffer.byteLength(bodyText);
      if (received > budget) return reject(413, 'payload too large');
      return deliver(body, bodyText);
    }

    if (endpoint.openReads >= this.limits.maxOpenReads) {
      return reject(503, 'too many webhook bodies being received', { 'Retry-After': String(RETRY_AFTER_SECONDS) });
    }
    endpoint.openReads++;
    readBody(req, budget, arrivedAt + this.limits.readDeadlineMs - Date.now(), (result) => {
      endpoint.openReads--;
      if (!result.ok) {
        if (result.failure === 'too_large') return reject(413, 'payload too large');
        if (result.failure === 'timeout') return reject(408, 'body not received in time');
        return reject(400, 'unreadable body');
      }
      let parsed: ReturnType<typeof parseWebhookBody>;
      try {
        parsed = parseWebhookBody(result.raw, String(req.headers['content-type'] ?? ''));
      } catch {
        // Runs in a stream callback: nothing thrown here may reach the process.
        parsed = { ok: false };
      }
      if (!parsed.ok) return reject(400, 'unparseable body');
      deliver(parsed.body, result.raw);
    });
  }
}

const routers = new WeakMap<object, WebhookRouter>();

/**
 * The router of one Node-RED httpNode app, mounted on first use; with `servedAt`, it also claims
 * its requests on Node-RED's server (see `WebhookRouter.claimOn`).
 */
export function routerFor(app: MountableApp, middleware: Middleware[] = [], servedAt?: ServedAt): WebhookRouter {
  let router = routers.get(app);
  if (!router) {
    router = new WebhookRouter(middleware);
    routers.set(app, router);
    app.use(router.handle);
    if (servedAt) router.claimOn(servedAt.server, servedAt.nodeRoot);
  }
  return router;
}

/**
 * The URL a request to the server has inside an app mounted on `root` (a normalized path), or
 * undefined when the app does not get it. Matches as Express mounts an app: case-insensitively,
 * on whole path segments.
 */
function underRoot(url: string, root: string): string | undefined {
  if (root === '/') return url;
  if (url.slice(0, root.length).toLowerCase() !== root.toLowerCase()) return undefined;
  const rest = url.slice(root.length);
  if (rest === '' || rest.startsWith('?')) return '/' + rest;
  return rest.startsWith('/') ? rest : undefined;
}

/** Destroys a rejected request's connection if it is still open a moment after the reply. */
function closeSoon(req: IncomingMessage): void {
  const socket = req.socket;
  if (!socket || socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), REJECTED_CONNECTION_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

export function normalizePath(path: string): string {
  let p = path.trim();
  if (!p.startsWith('/')) p = '/' + p;
  p = p.replace(/\/{2,}/g, '/');
  if (p.length > 1) p = p.replace(/\/+$/, '');
  return p;
}

function secretMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  // Hashing first gives equal lengths, so timingSafeEqual never leaks the secret's length.
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/**
 * The addresses of a comma-separated list of IPs and CIDRs; null when it is empty. Throws on a bad
 * entry, naming `setting` (the node property it came from).
 */
export function addressList(spec: string | undefined, setting: string): BlockList | null {
  const entries = (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address);
    if (!family) throw new Error(`${setting}: "${entry}" is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else {
      const bits = Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32))
        throw new Error(`${setting}: "${entry}" has a bad prefix length`);
      list.addSubnet(address, bits, type);
    }
  }
  return list;
}

/** Checks the allow list; validates `spec` and throws on a bad entry. */
export function validateAllowList(spec: string | undefined): void {
  addressList(spec, 'allowFrom');
}

function addressAllowed(list: BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return list.check(mapped[1], 'ipv4') || list.check(address, 'ipv6');
  const family = isIP(address);
  if (!family) return false;
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

function remoteAddressOf(req: RouterRequest, trusted: BlockList | null): string {
  if (!trusted) return req.ip ?? req.socket?.remoteAddress ?? '';
  // The socket's peer, not `req.ip`: that may already be read from the header (Express "trust proxy").
  const forwarded = req.headers['x-forwarded-for'];
  return clientAddressOf(req.socket?.remoteAddress ?? req.ip ?? '', typeof forwarded === 'string' ? forwarded : undefined, trusted);
}

/** Longest text of an X-Forwarded-For entry that is not an address, as it is shown in a log. */
const SHOWN_ENTRY_CHARS = 64;

/**
 * The address a request came from, given its direct peer and its `X-Forwarded-For` header. Each
 * proxy appends the address it received the request from, so the list is read from the right:
 * while the address at hand is a trusted proxy, the entry before it is what that proxy saw. The
 * first address that is not a trusted proxy is the client; entries left of it were sent by the
 * client itself and are never believed. An entry that is not an address ends the walk and is
 * returned (printable, shortened): it matches no allow list.
 */
export function clientAddressOf(peer: string, forwardedFor: string | undefined, trusted: BlockList | null): string {
  if (!trusted || !forwardedFor || !addressAllowed(trusted, peer)) return peer;
  const entries = forwardedFor
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  let address = peer;
  for (let i = entries.length - 1; i >= 0; i--) {
    address = withoutPort(entries[i]);
    if (!isIP(address)) return address.replace(/[^\x21-\x7e]/g, '?').slice(0, SHOWN_ENTRY_CHARS);
    if (!addressAllowed(trusted, address)) return address;
  }
  return address;
}

/** `192.0.2.1:5060` → `192.0.2.1`, `[2001:db8::1]:443` → `2001:db8::1`; anything else as it is. */
function withoutPort(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed) return bracketed[1];
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(entry);
  return v4 ? v4[1] : entry;
}

/**
 * Parses a raw webhook body by content type, tolerantly: JSON (repaired where the vendor's
 * own examples are malformed), form fields, or plain text such as a bare recording URL.
 */
export function parseWebhookBody(raw: string, contentType: string): { ok: true; body: unknown } | { ok: false } {
  const text = raw.trim();
  if (text === '') return { ok: true, body: undefined };
  const type = contentType.toLowerCase();
  if (type.includes('x-www-form-urlencoded')) return { ok: true, body: parseForm(text) };
  if (type.includes('multipart/')) return { ok: false };
  if (type.includes('json') || text.startsWith('{') || text.startsWith('[')) {
    const parsed = repairJson(text);
    return parsed === undefined || !withinDepth(parsed, WEBHOOK_MAX_DEPTH) ? { ok: false } : { ok: true, body: parsed };
  }
  if (/^[^\s=&]+=[^\s]*$/.test(text) && !/^[a-z]+:\/\//i.test(text)) return { ok: true, body: parseForm(text) };
  return { ok: true, body: text };
}

/** Parses `a=1&b=2` into a prototype-free map; of repeated keys the first one counts. */
export function parseForm(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!text) return out;
  for (const [key, value] of new URLSearchParams(text)) {
    if (!(key in out)) out[key] = value;
  }
  return out;
}

/** Whether objects and arrays in `value` nest at most `max` levels (iterative: safe on any depth). */
export function withinDepth(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return false;
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return true;
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

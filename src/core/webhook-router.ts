import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { repairJson } from './tolerant-json';
import type { WebhookInput } from './types';

export const WEBHOOK_BODY_LIMIT = 64 * 1024;
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

export interface WebhookEndpointOptions {
  /** Path under Node-RED's httpNodeRoot, e.g. `/pbx/3f9a`. */
  path: string;
  secret?: string;
  /** Comma-separated IPs and CIDRs; empty = any address. */
  allowFrom?: string;
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
}

export class WebhookPathConflictError extends Error {}

/**
 * Serves every pbx-config webhook endpoint of one Node-RED instance from a single middleware
 * mounted once on RED.httpNode, with a path → endpoint map. Registering and unregistering only
 * touch the map, so redeploys never leave a route behind or add a second one.
 */
export class WebhookRouter {
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(private readonly middleware: Middleware[] = []) {}

  get paths(): string[] {
    return [...this.endpoints.keys()];
  }

  /** Adds an endpoint; returns the function that removes it. */
  register(options: WebhookEndpointOptions): () => void {
    const path = normalizePath(options.path);
    if (this.endpoints.has(path)) throw new WebhookPathConflictError(`webhook path ${path} is already used by another pbx-config`);
    const endpoint: Endpoint = { ...options, path, allow: parseAllowList(options.allowFrom) };
    this.endpoints.set(path, endpoint);
    return () => {
      if (this.endpoints.get(path) === endpoint) this.endpoints.delete(path);
    };
  }

  readonly handle: Middleware = (req, res, next) => {
    const match = this.match(req);
    if (!match) return next();
    this.runMiddleware(0, req, res, (err?: unknown) => {
      if (err) return next(err);
      this.serve(match.endpoint, match.presentedSecret, req, res);
    });
  };

  private runMiddleware(i: number, req: RouterRequest, res: ServerResponse, done: Next): void {
    const mw = this.middleware[i];
    if (!mw) return done();
    mw(req, res, (err?: unknown) => (err ? done(err) : this.runMiddleware(i + 1, req, res, done)));
  }

  private match(req: RouterRequest): { endpoint: Endpoint; presentedSecret?: string } | undefined {
    if (this.endpoints.size === 0) return undefined;
    const pathname = normalizePath((req.url ?? '/').split('?')[0]);
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

  private serve(endpoint: Endpoint, presentedSecret: string | undefined, req: RouterRequest, res: ServerResponse): void {
    const remote = remoteAddressOf(req);
    const reject = (status: number, reason: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end(status === 401 ? 'Unauthorized' : reason);
      endpoint.onRejected(status, reason, remote);
    };
    if (endpoint.allow && !addressAllowed(endpoint.allow, remote)) return reject(401, 'address not allowed');
    if (endpoint.secret && !secretMatches(endpoint.secret, presentedSecret)) return reject(401, 'missing or wrong secret');
    const method = req.method ?? '';
    if (method !== 'GET' && method !== 'POST') return reject(405, 'method not allowed', { Allow: 'GET, POST' });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > WEBHOOK_BODY_LIMIT) return reject(413, 'payload too large', { Connection: 'close' });

    readBody(req, (err, raw) => {
      if (err) {
        return err === 'too_large' ? reject(413, 'payload too large', { Connection: 'close' }) : reject(400, 'unreadable body');
      }
      const rawUrl = req.url ?? '';
      const q = rawUrl.indexOf('?');
      const rawQuery = q >= 0 ? rawUrl.slice(q + 1) : '';
      let body: unknown;
      let bodyText: string;
      if (raw === undefined) {
        // Node-RED's admin body parsers (admin root '/') already read and parsed the body.
        body = req.body;
        if (!withinDepth(body, WEBHOOK_MAX_DEPTH)) return reject(400, 'body nested too deeply');
        bodyText = safeStringify(body);
      } else {
        bodyText = raw;
        const parsed = parseWebhookBody(raw, String(req.headers['content-type'] ?? ''));
        if (!parsed.ok) return reject(400, 'unparseable body');
        body = parsed.body;
      }
      if (body !== undefined && typeof body !== 'string' && !isPlainRecord(body)) return reject(400, 'body is not an object');
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
    });
  }
}

const routers = new WeakMap<object, WebhookRouter>();

/** The router of one Node-RED httpNode app, mounted on first use. */
export function routerFor(app: MountableApp, middleware: Middleware[] = []): WebhookRouter {
  let router = routers.get(app);
  if (!router) {
    router = new WebhookRouter(middleware);
    routers.set(app, router);
    app.use(router.handle);
  }
  return router;
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

function parseAllowList(spec: string | undefined): BlockList | null {
  const entries = (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address);
    if (!family) throw new Error(`allowFrom: "${entry}" is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else {
      const bits = Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32))
        throw new Error(`allowFrom: "${entry}" has a bad prefix length`);
      list.addSubnet(address, bits, type);
    }
  }
  return list;
}

/** Checks the allow list; validates `spec` and throws on a bad entry. */
export function validateAllowList(spec: string | undefined): void {
  parseAllowList(spec);
}

function addressAllowed(list: BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return list.check(mapped[1], 'ipv4') || list.check(address, 'ipv6');
  const family = isIP(address);
  if (!family) return false;
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

function remoteAddressOf(req: RouterRequest): string {
  return req.ip ?? req.socket?.remoteAddress ?? '';
}

/** Reads the raw body up to the limit; `undefined` when a body parser already consumed it. */
function readBody(req: RouterRequest, done: (err: 'too_large' | 'error' | null, raw?: string) => void): void {
  if (req._body === true || req.readableEnded) return done(null, undefined);
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (err: 'too_large' | 'error' | null, raw?: string) => {
    if (finished) return;
    finished = true;
    req.removeListener('data', onData);
    req.removeListener('end', onEnd);
    if (err === 'too_large') req.resume();
    done(err, raw);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > WEBHOOK_BODY_LIMIT) return finish('too_large');
    chunks.push(chunk);
  };
  const onEnd = () => finish(null, Buffer.concat(chunks).toString('utf8'));
  req.on('data', onData);
  req.on('end', onEnd);
  req.once('error', () => finish('error'));
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

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

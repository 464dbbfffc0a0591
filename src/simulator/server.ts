import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueueLoadOptionError } from './queue-load';
import type { Fault, ProviderSimulator, SimReply, SimRequest } from './types';
import { webhookTargetProblem, type WebhookScheme } from './webhook-sender';

export interface ServerOptions {
  /** Refuse (HTTP 409) API requests that place a call while its provider has no webhook target. */
  requireWebhook?: boolean;
}

/** What a scenario or call without a webhook target answers: how to give it one. */
export function noWebhookTarget(providerId: string): string {
  return (
    `no webhook target for ${providerId}, so its call events would go nowhere: start pbx-simulator with ` +
    `--webhook ${providerId}=<url>, or POST /_sim/webhook {"provider":"${providerId}","url":"<url>"}`
  );
}

export interface LoggedRequest {
  at: string;
  provider: string;
  method: string;
  path: string;
  query: Record<string, string>;
  body: string;
}

/**
 * The loopback PBX: one HTTP server serving every provider simulator under its path prefix,
 * plus a control API under `/_sim` (scenarios, webhook target, faults, request log).
 */
export class Simulator {
  readonly providers: ProviderSimulator[];
  readonly requests: LoggedRequest[] = [];
  private faults: Fault[] = [];
  private server?: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(
    providers: ProviderSimulator[],
    private readonly options: ServerOptions = {},
  ) {
    this.providers = providers;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = http.createServer((req, res) => void this.dispatch(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    for (const p of this.providers) p.listening?.(this.url);
    return this.url;
  }

  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) return '';
    return `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  }

  provider(id: string): ProviderSimulator {
    const p = this.providers.find((x) => x.id === id);
    if (!p) throw new Error(`no simulator for provider ${id}`);
    return p;
  }

  setWebhook(id: string, url: string | undefined, scheme?: WebhookScheme): void {
    const p = this.provider(id);
    p.sender.url = url;
    if (scheme) p.sender.scheme = scheme;
  }

  addFault(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** Removes every fault, or only those whose `pathPrefix` starts with `pathPrefix` (one provider's). */
  clearFaults(pathPrefix?: string): void {
    this.faults = pathPrefix === undefined ? [] : this.faults.filter((f) => !f.pathPrefix?.startsWith(pathPrefix));
  }

  /** Requests a provider received, optionally only those to one method/path fragment. */
  received(provider: string, pathIncludes = ''): LoggedRequest[] {
    return this.requests.filter((r) => r.provider === provider && r.path.includes(pathIncludes));
  }

  async close(): Promise<void> {
    for (const p of this.providers) p.stopQueueLoad?.();
    await Promise.all(this.providers.map((p) => p.sender.idle()));
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 1024 * 1024) return reply(res, { status: 413, body: 'too large' });
      chunks.push(chunk as Buffer);
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const simReq: SimRequest = { method: req.method ?? 'GET', url, headers: req.headers, rawBody: Buffer.concat(chunks) };
    try {
      if (url.pathname.startsWith('/_sim/')) return reply(res, await this.control(simReq));
      const provider = this.providers.find((p) => url.pathname === p.prefix || url.pathname.startsWith(p.prefix + '/'));
      if (!provider) return reply(res, { status: 404, body: 'not found' });
      this.log(provider.id, simReq);
      if (this.options.requireWebhook && !provider.sender.url && provider.placesCall(simReq)) {
        const message = noWebhookTarget(provider.id);
        return reply(res, provider.refusal?.(message) ?? { status: 409, body: message });
      }
      const fault = this.takeFault(url.pathname, `${url.search}\n${simReq.rawBody.toString('latin1')}`);
      if (fault?.delayMs) await sleep(fault.delayMs);
      if (fault?.reset) {
        req.socket.destroy();
        return;
      }
      if (fault?.resetMidResponse) return replyHalf(res, await provider.handle(simReq));
      if (fault?.rawBody !== undefined)
        return reply(res, { status: fault.status ?? 200, body: fault.rawBody, headers: { 'Content-Type': 'application/json' } });
      if (fault?.status) return reply(res, { status: fault.status, body: `simulated ${fault.status}` });
      reply(res, await provider.handle(simReq));
    } catch (err) {
      reply(res, { status: 500, body: `simulator error: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  private takeFault(path: string, content: string): Fault | undefined {
    const i = this.faults.findIndex(
      (f) => (!f.pathPrefix || path.startsWith(f.pathPrefix)) && (!f.bodyIncludes || content.includes(f.bodyIncludes)),
    );
    if (i < 0) return undefined;
    const fault = this.faults[i];
    if (fault.times !== undefined && --fault.times <= 0) this.faults.splice(i, 1);
    return fault;
  }

  private log(provider: string, req: SimRequest): void {
    this.requests.push({
      at: new Date().toISOString(),
      provider,
      method: req.method,
      path: req.url.pathname,
      query: Object.fromEntries(req.url.searchParams),
      body: req.rawBody.toString('utf8').slice(0, 2000),
    });
    if (this.requests.length > 5000) this.requests.splice(0, this.requests.length - 5000);
  }

  private async control(req: SimRequest): Promise<SimReply> {
    const path = req.url.pathname.replace(/^\/_sim/, '');
    let body: unknown = {};
    try {
      if (req.rawBody.length) body = JSON.parse(req.rawBody.toString('utf8'));
    } catch {
      body = undefined;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return { status: 400, body: { error: 'the body is not a JSON object' } };
    return this.controlAction(req, path, body as Record<string, unknown>);
  }

  private async controlAction(req: SimRequest, path: string, body: Record<string, unknown>): Promise<SimReply> {
    const providerId = String(body.provider ?? req.url.searchParams.get('provider') ?? this.providers[0]?.id);
    const p = this.providers.find((x) => x.id === providerId);
    const noProvider = {
      status: 404,
      body: { error: `no provider ${providerId} (running: ${this.providers.map((x) => x.id).join(', ')})` },
    };
    if (req.method === 'GET' && path === '/scenarios') {
      return { status: 200, body: Object.fromEntries(this.providers.map((x) => [x.id, x.scenarios()])) };
    }
    if (req.method === 'POST' && path === '/scenario') {
      if (!p) return noProvider;
      const name = String(body.name ?? '');
      if (!p.scenarios().includes(name)) return { status: 404, body: { error: `unknown scenario ${name}`, scenarios: p.scenarios() } };
      if (!p.sender.url) return { status: 409, body: { error: noWebhookTarget(p.id) } };
      const result = await p.play(name, body);
      return { status: 200, body: result };
    }
    if (req.method === 'POST' && path === '/queue-load') {
      if (!p) return noProvider;
      if (!p.playQueueLoad) return { status: 404, body: { error: `${p.id} plays no queue load` } };
      if (!p.sender.url) return { status: 409, body: { error: noWebhookTarget(p.id) } };
      try {
        return { status: 200, body: await p.playQueueLoad(body) };
      } catch (err) {
        if (err instanceof QueueLoadOptionError) return { status: 400, body: { error: err.message } };
        throw err;
      }
    }
    if (req.method === 'POST' && path === '/webhook') {
      if (!p) return noProvider;
      const url = body.url ? String(body.url) : undefined;
      const problem = url === undefined ? undefined : webhookTargetProblem(url);
      if (problem) return { status: 400, body: { error: problem } };
      this.setWebhook(providerId, url, body.scheme as WebhookScheme | undefined);
      return { status: 200, body: { ok: true } };
    }
    if (path === '/faults') {
      if (req.method === 'DELETE') this.clearFaults();
      else if (req.method === 'POST') this.addFault(body as Fault);
      return { status: 200, body: { faults: this.faults } };
    }
    if (path === '/requests') {
      if (req.method === 'DELETE') this.requests.length = 0;
      return { status: 200, body: this.requests.filter((r) => !req.url.searchParams.get('provider') || r.provider === providerId) };
    }
    if (req.method === 'GET' && path === '/state') {
      return { status: 200, body: Object.fromEntries(this.providers.map((p) => [p.id, p.state()])) };
    }
    if (req.method === 'POST' && path === '/reset') {
      this.providers.forEach((p) => p.reset());
      this.clearFaults();
      this.requests.length = 0;
      return { status: 200, body: { ok: true } };
    }
    return { status: 404, body: { error: 'unknown control path' } };
  }
}

function reply(res: http.ServerResponse, r: SimReply): void {
  if (res.headersSent) return;
  const isText = typeof r.body === 'string' || r.body === undefined;
  const body = r.body === undefined ? '' : isText ? String(r.body) : JSON.stringify(r.body);
  res.writeHead(r.status, {
    'Content-Type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    Server: 'pbx-simulator',
    ...r.headers,
  });
  res.end(body);
}

/** Sends the status line, the headers (with the full Content-Length) and half of the body, then cuts the connection. */
function replyHalf(res: http.ServerResponse, r: SimReply): void {
  const body = Buffer.from(r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
  res.writeHead(r.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, ...r.headers });
  res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

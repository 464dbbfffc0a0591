import http from 'node:http';

export type WebhookScheme = 'post' | 'get' | 'form';

/** Why the simulator will not send webhooks to `url`, or undefined when it will (plain HTTP to loopback). */
export function webhookTargetProblem(url: string): string | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (target.protocol !== 'http:') return `the simulator sends webhooks over plain http, not ${target.protocol.replace(/:$/, '')}`;
  if (!/^(127\.|localhost$|\[::1\]$)/.test(target.hostname)) return `the simulator only sends webhooks to loopback, not ${target.hostname}`;
  return undefined;
}

export interface Delivery {
  at: string;
  method: string;
  url: string;
  status: number;
  body?: string;
}

/**
 * Sends a provider's webhooks to the configured URL (loopback only) in order, one at a time,
 * and remembers what it sent so tests can compare.
 */
export class WebhookSender {
  url?: string;
  scheme: WebhookScheme;
  readonly deliveries: Delivery[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  constructor(scheme: WebhookScheme = 'post') {
    this.scheme = scheme;
  }

  /** Queues a delivery: JSON body, form body, or query string by the current scheme. */
  send(fields: Record<string, unknown>, scheme: WebhookScheme = this.scheme): Promise<number> {
    const run = () => this.deliver(fields, scheme);
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Queues a raw delivery: `query` appended to the URL as is, optional text body. */
  sendRaw(method: 'GET' | 'POST', query: string, body?: string, contentType = 'text/plain'): Promise<number> {
    const run = () => this.request(method, query, body, contentType);
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  idle(): Promise<unknown> {
    return this.chain;
  }

  private deliver(fields: Record<string, unknown>, scheme: WebhookScheme): Promise<number> {
    if (scheme === 'post') return this.request('POST', '', JSON.stringify(fields), 'application/json');
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.append(k, String(v));
    return scheme === 'get'
      ? this.request('GET', form.toString())
      : this.request('POST', '', form.toString(), 'application/x-www-form-urlencoded');
  }

  private request(method: 'GET' | 'POST', query: string, body?: string, contentType?: string): Promise<number> {
    const base = this.url;
    if (!base) return Promise.resolve(0);
    const problem = webhookTargetProblem(base);
    if (problem) return Promise.reject(new Error(problem));
    const target = new URL(base);
    if (query) target.search = target.search ? `${target.search}&${query}` : `?${query}`;
    return new Promise((resolve) => {
      const req = http.request(
        target,
        {
          method,
          headers: body !== undefined ? { 'Content-Type': contentType ?? 'text/plain', 'Content-Length': Buffer.byteLength(body) } : {},
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            this.record(method, target, res.statusCode ?? 0, body);
            resolve(res.statusCode ?? 0);
          });
        },
      );
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        this.record(method, target, 0, body);
        resolve(0);
      });
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  private record(method: string, url: URL, status: number, body?: string): void {
    this.deliveries.push({ at: new Date().toISOString(), method, url: url.toString(), status, body });
    if (this.deliveries.length > 1000) this.deliveries.splice(0, this.deliveries.length - 1000);
  }
}

'use strict';
// A loopback provider that misbehaves on purpose, for the deadline and size tests: requests that
// match a rule get headers and then one byte per second (`drip`), or an endless-looking answer
// generated on the fly (`huge`), and everything else is forwarded to an upstream (the simulator)
// or answered `{}`. It records every request and, for each huge answer, how many bytes it handed
// to the socket before the client closed the connection.
const http = require('node:http');
const zlib = require('node:zlib');

const CHUNK = Buffer.alloc(64 * 1024, 0x20);

class HostileProvider {
  /** @param {{ upstream?: string }} [o] base URL that unmatched requests are forwarded to */
  constructor({ upstream } = {}) {
    this.upstream = upstream;
    /** @type {Array<{ method: string, path: string, search: string, body: string }>} */
    this.requests = [];
    /** @type {Array<{ path: string, bytes: number, finished: boolean, closed: boolean }>} */
    this.hugeAnswers = [];
    this.rules = [];
    this.timers = new Set();
    this.sockets = new Set();
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen() {
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.server.address().port}`;
  }

  /**
   * @param {object} rule
   * @param {(r: { method: string, path: string, body: string }) => boolean} rule.match
   * @param {'drip' | 'huge' | 'gzip-bomb'} rule.behave
   * @param {number} [rule.dripMs]        how long a drip lasts (default 60 s)
   * @param {number} [rule.everyMs]       one byte per this many ms (default 1000)
   * @param {number} [rule.bytes]         size of a huge answer (default 200 MB)
   * @param {boolean} [rule.contentLength] announce the huge answer's size
   * @param {boolean} [rule.text]          a huge answer of spaces only (not JSON)
   */
  addRule(rule) {
    this.rules.push(rule);
  }

  clearRules() {
    this.rules.length = 0;
  }

  /** Requests received since `mark` (an index from `this.requests.length`) that match `filter`. */
  seen(filter, mark = 0) {
    return this.requests.slice(mark).filter(filter);
  }

  async close() {
    for (const t of this.timers) clearInterval(t);
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }

  async handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const url = new URL(req.url, 'http://x');
    const seen = { method: req.method, path: url.pathname, search: url.search, body: Buffer.concat(chunks).toString('utf8') };
    this.requests.push(seen);
    const rule = this.rules.find((r) => r.match(seen));
    if (rule?.behave === 'drip') return this.drip(res, rule.dripMs ?? 60000, rule.everyMs ?? 1000);
    if (rule?.behave === 'huge') return this.huge(seen.path, res, rule.bytes ?? 200e6, rule);
    if (rule?.behave === 'gzip-bomb') return this.gzipBomb(res, rule.bytes ?? 200e6);
    if (!this.upstream) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end('{}');
    }
    return this.forward(req, res, url, Buffer.concat(chunks));
  }

  /** Headers at once, then `{"result":true,"pad":"` and one byte every `everyMs`, completed after `ms`. */
  drip(res, ms, everyMs) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"result":true,"pad":"');
    const end = Date.now() + ms;
    const timer = setInterval(() => {
      if (Date.now() >= end) {
        clearInterval(timer);
        this.timers.delete(timer);
        res.end('"}');
      } else res.write('x');
    }, everyMs);
    this.timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      this.timers.delete(timer);
    });
  }

  /** `bytes` of a JSON string (or of spaces) generated on the fly, written as fast as the client reads. */
  huge(path, res, bytes, { contentLength, text }) {
    const record = { path, bytes: 0, finished: false, closed: false };
    this.hugeAnswers.push(record);
    res.writeHead(200, { 'Content-Type': 'application/json', ...(contentLength ? { 'Content-Length': String(bytes) } : {}) });
    res.on('close', () => {
      record.closed = true;
    });
    const head = Buffer.from(text ? ' ' : '{"result":true,"pad":"');
    const tail = Buffer.from(text ? ' ' : '"}');
    const padEnd = bytes - tail.length;
    const write = (chunk) => {
      record.bytes += chunk.length;
      return res.write(chunk);
    };
    const next = () => {
      while (!record.closed && record.bytes < padEnd) {
        const chunk = record.bytes === 0 ? head : CHUNK.subarray(0, Math.min(CHUNK.length, padEnd - record.bytes));
        if (!write(chunk)) return res.once('drain', next);
      }
      if (!record.closed) {
        write(tail);
        record.finished = true;
        res.end();
      }
    };
    next();
  }

  /** A small gzip stream that inflates to `bytes` of spaces inside a JSON string. */
  gzipBomb(res, bytes) {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    const gzip = zlib.createGzip({ level: 1 });
    gzip.pipe(res);
    let sent = 0;
    let stopped = false;
    res.on('close', () => {
      stopped = true;
      gzip.destroy();
    });
    gzip.write('{"pad":"');
    const next = () => {
      while (!stopped && sent < bytes) {
        sent += CHUNK.length;
        if (!gzip.write(CHUNK)) return gzip.once('drain', next);
      }
      if (!stopped) gzip.end('"}');
    };
    next();
  }

  forward(req, res, url, body) {
    const target = new URL(this.upstream + url.pathname + url.search);
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    const out = http.request(target, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    out.end(body);
  }
}

module.exports = { HostileProvider };

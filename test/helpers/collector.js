'use strict';
// A loopback HTTP server the flows under test post their output messages to.
const http = require('node:http');

class Collector {
  constructor() {
    this.messages = [];
    this.waiters = [];
  }

  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        res.end('ok');
        const text = Buffer.concat(chunks).toString('utf8');
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        this.messages.push({ ...this.tagOf(req), path: req.url, body, text });
        this.check();
      });
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  /** What a subclass records of each request besides path and body (e.g. which instance sent it). */
  tagOf() {
    return {};
  }

  /** Resolves with what `picked` gives for `path` once `count` messages (matching `filter`) arrived. */
  waitFor(path, count, { timeoutMs = 10000, filter = () => true } = {}) {
    return new Promise((resolve, reject) => {
      const waiter = { path, count, filter, resolve };
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: ${this.picked(path, filter).length} of ${count} messages on ${path}`));
      }, timeoutMs);
      this.waiters.push(waiter);
      this.check();
    });
  }

  get name() {
    return 'collector';
  }

  /** What `waitFor` resolves with: the bodies. */
  picked(path, filter) {
    return this.on(path, filter);
  }

  on(path, filter = () => true) {
    return this.messages.filter((m) => m.path === path && filter(m.body)).map((m) => m.body);
  }

  clear() {
    this.messages = [];
  }

  check() {
    for (const w of [...this.waiters]) {
      const got = this.picked(w.path, w.filter);
      if (got.length >= w.count) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(got);
      }
    }
  }

  close() {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(r));
  }
}

module.exports = { Collector };

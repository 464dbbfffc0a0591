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
        this.messages.push({ path: req.url, body, text });
        this.check();
      });
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  /** Resolves with the messages on `path` once `count` of them (matching `filter`) arrived. */
  waitFor(path, count, { timeoutMs = 10000, filter = () => true } = {}) {
    return new Promise((resolve, reject) => {
      const waiter = { path, count, filter, resolve };
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`collector: ${this.on(path, filter).length} of ${count} messages on ${path}`));
      }, timeoutMs);
      this.waiters.push(waiter);
      this.check();
    });
  }

  on(path, filter = () => true) {
    return this.messages.filter((m) => m.path === path && filter(m.body)).map((m) => m.body);
  }

  clear() {
    this.messages = [];
  }

  check() {
    for (const w of [...this.waiters]) {
      const got = this.on(w.path, w.filter);
      if (got.length >= w.count) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(got);
      }
    }
  }

  close() {
    return new Promise((r) => this.server.close(r));
  }
}

module.exports = { Collector };

'use strict';
// A small HTTP/1.1 load generator over raw sockets, in two shapes:
//   runLoad: closed loop, N keep-alive connections with one request in flight on each, for a fixed time;
//   runRate: open loop, requests sent on a fixed schedule whatever the answers (as a PBX does),
//            on as many keep-alive connections as are busy at once (bounded).
// Raw sockets rather than http.request keep the generator's own cost low, so on a small machine it
// is not the bottleneck (run.js measures its ceiling).
const net = require('node:net');
const { performance } = require('node:perf_hooks');

/**
 * Splits what arrives on a keep-alive connection into responses; `onResponse(status)` for each.
 * Returns the socket's `data` listener (latin1 text).
 */
function responseReader(onResponse) {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    for (;;) {
      const headEnd = buffer.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = buffer.slice(0, headEnd).toLowerCase();
      let end;
      const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
      if (length) {
        end = headEnd + 4 + Number(length[1]);
        if (buffer.length < end) return;
      } else if (/\r\ntransfer-encoding:\s*chunked/.test(head)) {
        const body = buffer.slice(headEnd + 4);
        const term = body.startsWith('0\r\n\r\n') ? 0 : body.indexOf('\r\n0\r\n\r\n');
        if (term < 0) return;
        end = headEnd + 4 + term + (term === 0 ? 5 : 7);
      } else {
        end = headEnd + 4;
      }
      buffer = buffer.slice(end);
      onResponse(Number(head.slice(9, 12)));
    }
  };
}

const requestText = ({ path, body }) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`;

/** runRate does not reuse a keep-alive connection idle for longer than this. */
const MAX_IDLE_REUSE_MS = 1000;

/** Quantile `p` of sorted `values` (NaN when empty). */
const quantile = (values, p) => (values.length ? values[Math.min(values.length - 1, Math.floor(p * values.length))] : NaN);

/**
 * @param {object} o
 * @param {number} o.port            loopback port
 * @param {number} o.connections
 * @param {number} o.durationMs
 * @param {(n: number) => {path: string, body: string}} o.request  the n-th request
 * @returns {Promise<{requests: number, seconds: number, perSecond: number, statuses: object, errors: number, p50: number, p99: number}>}
 */
function runLoad({ port, connections, durationMs, request }) {
  return new Promise((resolve) => {
    const latencies = [];
    const statuses = {};
    let errors = 0;
    let sent = 0;
    let open = connections;
    const start = process.hrtime.bigint();
    const deadline = Date.now() + durationMs;

    const finish = () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      latencies.sort((a, b) => a - b);
      resolve({
        requests: latencies.length,
        seconds,
        perSecond: latencies.length / seconds,
        statuses,
        errors,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
      });
    };

    for (let c = 0; c < connections; c++) {
      const socket = net.connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      let sentAt = 0n;
      const send = () => {
        if (Date.now() >= deadline) {
          socket.end();
          return;
        }
        sentAt = process.hrtime.bigint();
        socket.write(requestText(request(sent++)));
      };
      socket.setEncoding('latin1');
      socket.on('connect', send);
      socket.on(
        'data',
        responseReader((status) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
          send();
        }),
      );
      socket.on('error', () => {
        errors++;
      });
      socket.on('close', () => {
        if (--open === 0) finish();
      });
    }
  });
}

/**
 * Open loop: `count` requests, the n-th due `n / rate` seconds after the start, each written on an
 * idle keep-alive connection or, when all are busy, on a new one (at most `maxConnections`; beyond
 * that it waits for one). Latency runs from when the request was due, so time spent waiting for a
 * connection counts. Answers still missing `drainMs` after the last request was due are `lost`.
 * With `ports`, the n-th request goes to `ports[n % ports.length]` (a balancer in the generator).
 *
 * @param {object} o
 * @param {number} [o.port]
 * @param {number[]} [o.ports]        instead of `port`: each port in turn
 * @param {number} o.rate             requests per second
 * @param {number} o.count
 * @param {(n: number) => {path: string, body: string}} o.request
 * @param {number} [o.maxConnections]  per port
 * @param {number} [o.drainMs]
 * @returns {Promise<{sent: number, answered: number, lost: number, errors: number, statuses: object,
 *   seconds: number, perSecond: number, acceptedPerSecond: number, p50: number, p99: number, max: number,
 *   lateSends: number, maxSendLagMs: number, connections: number}>}
 */
function runRate({ port, ports = [port], rate, count, request, maxConnections = 256, drainMs = 10000 }) {
  return new Promise((resolve) => {
    const latencies = [];
    const statuses = {};
    const pools = ports.map((p) => ({ port: p, idle: [], waiting: [], live: 0 }));
    let opened = 0;
    let errors = 0;
    let sent = 0;
    let lastAnswerAt = 0;
    let maxSendLag = 0;
    let lateSends = 0;
    let timer;
    let drainTimer;
    let done = false;
    const start = performance.now();
    const dueAt = (n) => start + (n * 1000) / rate;

    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      for (const s of [...pools.flatMap((pool) => pool.idle), ...busy]) s.destroy();
      latencies.sort((a, b) => a - b);
      const seconds = (Math.max(lastAnswerAt, dueAt(count - 1)) - start) / 1000;
      resolve({
        sent,
        answered: latencies.length,
        lost: sent - latencies.length,
        errors,
        statuses,
        seconds,
        perSecond: latencies.length / seconds,
        acceptedPerSecond: (statuses[200] ?? 0) / seconds,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: latencies.length ? latencies[latencies.length - 1] : NaN,
        lateSends,
        maxSendLagMs: maxSendLag,
        connections: opened,
      });
    };

    const busy = new Set();
    const write = (socket, n) => {
      busy.add(socket);
      socket.inFlight = { due: dueAt(n) };
      socket.write(requestText(request(n)));
    };
    const release = (socket) => {
      const { pool } = socket;
      busy.delete(socket);
      socket.inFlight = undefined;
      if (pool.waiting.length) write(socket, pool.waiting.shift());
      else {
        socket.idleSince = performance.now();
        pool.idle.push(socket);
      }
      if (sent === count && busy.size === 0 && pools.every((p) => p.waiting.length === 0)) finish();
    };
    const open = (pool, n) => {
      opened++;
      pool.live++;
      const socket = net.connect(pool.port, '127.0.0.1');
      socket.pool = pool;
      socket.setNoDelay(true);
      socket.setEncoding('latin1');
      busy.add(socket);
      socket.once('connect', () => write(socket, n));
      socket.on(
        'data',
        responseReader((status) => {
          const now = performance.now();
          statuses[status] = (statuses[status] ?? 0) + 1;
          latencies.push(now - socket.inFlight.due);
          lastAnswerAt = now;
          release(socket);
        }),
      );
      socket.on('error', () => errors++);
      socket.on('close', () => {
        pool.live--;
        busy.delete(socket);
        const i = pool.idle.indexOf(socket);
        if (i >= 0) pool.idle.splice(i, 1);
      });
    };
    const dispatch = (n) => {
      const pool = pools[n % pools.length];
      let socket = pool.idle.pop();
      // A connection idle for long may be closing on the server's side just as the request goes out
      // (Node's keepAliveTimeout is 5 s): the request would be lost to the race, not to the server.
      while (socket && performance.now() - socket.idleSince > MAX_IDLE_REUSE_MS) {
        socket.destroy();
        socket = pool.idle.pop();
      }
      if (socket) write(socket, n);
      else if (pool.live < maxConnections) open(pool, n);
      else pool.waiting.push(n);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < count && dueAt(sent) <= now) {
        const lag = now - dueAt(sent);
        if (lag > maxSendLag) maxSendLag = lag;
        if (lag > 5) lateSends++;
        dispatch(sent++);
      }
      if (sent < count) timer = setTimeout(tick, Math.max(0, Math.min(dueAt(sent) - performance.now(), 20)));
      else drainTimer = setTimeout(finish, drainMs);
    };
    tick();
  });
}

module.exports = { runLoad, runRate };

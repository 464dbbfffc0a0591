'use strict';
// A small HTTP/1.1 load generator: N keep-alive connections over raw sockets, one request in
// flight on each, for a fixed time. Raw sockets rather than http.request keep the generator's own
// cost low, so on a small machine it is not the bottleneck (run.js measures its ceiling).
const net = require('node:net');

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
      const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN);
      resolve({
        requests: latencies.length,
        seconds,
        perSecond: latencies.length / seconds,
        statuses,
        errors,
        p50: q(0.5),
        p99: q(0.99),
      });
    };

    for (let c = 0; c < connections; c++) {
      const socket = net.connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      let buffer = '';
      let sentAt = 0n;
      const send = () => {
        if (Date.now() >= deadline) {
          socket.end();
          return;
        }
        const { path, body } = request(sent++);
        sentAt = process.hrtime.bigint();
        socket.write(
          `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
        );
      };
      socket.setEncoding('latin1');
      socket.on('connect', send);
      socket.on('data', (chunk) => {
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
          const status = Number(head.slice(9, 12));
          statuses[status] = (statuses[status] ?? 0) + 1;
          latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
          buffer = buffer.slice(end);
          send();
        }
      });
      socket.on('error', () => {
        errors++;
      });
      socket.on('close', () => {
        if (--open === 0) finish();
      });
    }
  });
}

module.exports = { runLoad };

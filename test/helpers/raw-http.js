'use strict';
// A hand-written HTTP/1.1 client on a raw loopback socket, for what fetch and http.request hide:
// chunked bodies of an exact size, bodies dribbled a byte at a time, a client that keeps sending
// after the reply, and whether the server closed the connection. Every send loop is bounded.
const net = require('node:net');

/**
 * Opens a connection and sends the request head. `chunked` (default) sends the body with
 * `Transfer-Encoding: chunked` and no Content-Length, as a streaming client does.
 * Resolves `reply` with `{ status, headers, text }` once a whole reply arrived, and `closed` when
 * the server closed the connection (whatever the client was doing).
 */
function openRequest(port, { method = 'POST', path, headers = {}, chunked = true }) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const head = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  if (chunked) head.push('Transfer-Encoding: chunked');
  socket.write(head.join('\r\n') + '\r\n\r\n');

  let received = Buffer.alloc(0);
  let resolveReply;
  const reply = new Promise((resolve) => (resolveReply = resolve));
  const closed = new Promise((resolve) => socket.once('close', () => resolve(true)));
  socket.on('error', () => undefined); // writes after the server closed: EPIPE / ECONNRESET
  socket.on('data', (data) => {
    received = Buffer.concat([received, data]);
    const end = received.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = received.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const replyHeaders = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      replyHeaders[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(replyHeaders['content-length'] ?? 0);
    if (received.length - end - 4 >= length) {
      resolveReply({ status, headers: replyHeaders, text: received.subarray(end + 4, end + 4 + length).toString('utf8') });
    }
  });
  // An unanswered request still settles `reply` when the connection closes.
  closed.then(() => resolveReply({ status: 0, headers: {}, text: '' }));

  const writeChunk = (data) => {
    if (socket.destroyed || !socket.writable) return false;
    const buf = Buffer.from(data);
    socket.write(chunked ? Buffer.concat([Buffer.from(`${buf.length.toString(16)}\r\n`), buf, Buffer.from('\r\n')]) : buf);
    return true;
  };
  return {
    socket,
    reply,
    closed,
    /** Sends body bytes (one chunk when chunked). */
    write: writeChunk,
    /** Ends a chunked body. */
    end() {
      if (chunked && !socket.destroyed && socket.writable) socket.write('0\r\n\r\n');
    },
    /**
     * Sends `data` `every` ms, at most `times` times, until the server closes the connection.
     * Resolves with the number of writes made.
     */
    keepSending(data, { every, times }) {
      return new Promise((resolve) => {
        let n = 0;
        const timer = setInterval(() => {
          if (n >= times || !writeChunk(data)) {
            clearInterval(timer);
            return resolve(n);
          }
          n++;
        }, every);
        socket.once('close', () => {
          clearInterval(timer);
          resolve(n);
        });
      });
    },
    destroy: () => socket.destroy(),
  };
}

/** Sends a whole body in chunks of `chunkSize` (chunked, no Content-Length); resolves with the reply. */
async function sendChunked(port, path, body, { headers = {}, chunkSize = 16 * 1024 } = {}) {
  const req = openRequest(port, { path, headers });
  const buf = Buffer.from(body);
  for (let i = 0; i < buf.length; i += chunkSize) req.write(buf.subarray(i, i + chunkSize));
  req.end();
  const reply = await req.reply;
  req.destroy();
  return reply;
}

/** A JSON text of exactly `size` bytes: `fields` plus a padding field. */
function jsonOfSize(fields, size) {
  const base = JSON.stringify({ ...fields, Pad: '' });
  if (size < base.length) throw new Error(`${size} bytes is too small for ${base}`);
  return JSON.stringify({ ...fields, Pad: 'x'.repeat(size - base.length) });
}

module.exports = { openRequest, sendChunked, jsonOfSize };

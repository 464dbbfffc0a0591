#!/usr/bin/env node
'use strict';
// A small round-robin HTTP reverse proxy on loopback, standing in for the load balancer in front
// of several Node-RED replicas (the cluster demo and the multi-replica tests). node:http only.
//
//   node scripts/round-robin-proxy.js --port 1880 --target http://127.0.0.1:1881 --target http://127.0.0.1:1882
//
// Each request goes to the next target in turn. A target that refuses the connection before any
// byte of the request body was read is skipped once (the request goes to the following target);
// any other upstream failure answers 502, a request not answered within the deadline 504, and a
// request over the concurrency bound 503 at once.
const http = require('node:http');

const DEFAULT_DEADLINE_MS = 15000;
const DEFAULT_MAX_CONCURRENT = 512;
/**
 * An upstream connection idle this long is closed by the proxy: below Node's (and so Node-RED's)
 * 5 s keepAliveTimeout, so a request never goes out on a connection the upstream is closing (502).
 */
const UPSTREAM_IDLE_MS = 4000;
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1)$/;

// Hop-by-hop headers (RFC 9110 section 7.6.1): meaningful for one connection only, never forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** `headers` without hop-by-hop headers, including those named by its own Connection header. */
function endToEndHeaders(headers) {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !named.has(name)) out[name] = value;
  }
  return out;
}

function parseTargets(targets) {
  if (!Array.isArray(targets) || targets.length === 0) throw new Error('round-robin proxy: at least one target is needed');
  return targets.map((t) => {
    const url = new URL(t);
    if (url.protocol !== 'http:') throw new Error(`round-robin proxy: target ${t} is not plain http`);
    return {
      href: url.href,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port) || 80,
      base: url.pathname.replace(/\/$/, ''),
    };
  });
}

/** The client address as X-Forwarded-For carries it: appended to what earlier proxies wrote. */
function forwardedFor(req) {
  const client = req.socket.remoteAddress ?? '';
  const earlier = req.headers['x-forwarded-for'];
  return earlier ? `${earlier}, ${client}` : client;
}

/**
 * @param {object} o
 * @param {string[]} o.targets           base URLs, e.g. `http://127.0.0.1:1881`
 * @param {number} [o.port]              0 = any free port
 * @param {string} [o.host]              a loopback address
 * @param {number} [o.deadlineMs]        total time per request before 504
 * @param {number} [o.maxConcurrent]     requests in flight before 503
 * @returns {Promise<{ url: string, port: number, close(): Promise<void>, setTargets(targets: string[]): void, stats: object }>}
 */
async function startRoundRobinProxy({
  targets,
  port = 0,
  host = '127.0.0.1',
  deadlineMs = DEFAULT_DEADLINE_MS,
  maxConcurrent = DEFAULT_MAX_CONCURRENT,
} = {}) {
  if (!LOOPBACK_HOST.test(host)) throw new Error(`round-robin proxy: listens on loopback only, not ${host}`);
  let upstreams = parseTargets(targets);
  let next = 0;
  let closed = false;
  const inFlight = new Set();
  // The agent destroys a free socket when its timeout fires.
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxConcurrent, timeout: UPSTREAM_IDLE_MS });
  const stats = { requests: 0, active: 0, byTarget: {}, skipped: 0, busy: 0, timedOut: 0, failed: 0 };

  const server = http.createServer((req, res) => {
    stats.requests++;
    if (closed || stats.active >= maxConcurrent) {
      stats.busy++;
      req.resume();
      res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '1' }).end('proxy busy\n');
      return;
    }
    proxyRequest(req, res);
  });
  server.keepAliveTimeout = 5000;

  function proxyRequest(req, res) {
    stats.active++;
    let upstream;
    let finished = false;
    const flight = { abort: () => finish() };
    inFlight.add(flight);

    /** Ends this request's bookkeeping once; false when it already ended. */
    const settle = () => {
      if (finished) return false;
      finished = true;
      clearTimeout(timer);
      inFlight.delete(flight);
      stats.active--;
      return true;
    };
    /** Ends the request early: an error status when nothing was answered yet, else a cut connection. */
    const finish = (status, text) => {
      if (!settle()) return;
      upstream?.destroy();
      if (status && !res.headersSent) res.writeHead(status, { 'Content-Type': 'text/plain', Connection: 'close' }).end(text);
      else if (!res.writableFinished) res.destroy();
    };
    const timer = setTimeout(() => {
      stats.timedOut++;
      finish(504, 'upstream did not answer in time\n');
    }, deadlineMs);
    res.on('close', () => {
      if (!res.writableFinished) finish(); // the client went away: stop the upstream request too
    });

    const headers = { ...endToEndHeaders(req.headers), 'x-forwarded-for': forwardedFor(req) };

    const attempt = (target, mayRetry) => {
      stats.byTarget[target.href] = (stats.byTarget[target.href] ?? 0) + 1;
      let connected = false;
      upstream = http.request({
        agent,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: `${target.base}${req.url}`,
        headers,
      });
      upstream.on('socket', (socket) => {
        const begin = () => {
          connected = true;
          if (!finished) req.pipe(upstream);
        };
        if (socket.connecting) socket.once('connect', begin);
        else begin();
      });
      upstream.on('response', (upRes) => {
        res.writeHead(upRes.statusCode, upRes.statusMessage, endToEndHeaders(upRes.headers));
        upRes.pipe(res);
        upRes.on('end', settle);
        upRes.on('error', () => finish());
      });
      upstream.on('error', (err) => {
        if (finished) return;
        req.unpipe(upstream);
        // The body is piped only once connected, so a refused connection has read none of it and
        // another target may still take the request whole.
        if (mayRetry && !connected && !req.readableDidRead && err.code === 'ECONNREFUSED') {
          stats.skipped++;
          attempt(pick(), false);
          return;
        }
        stats.failed++;
        finish(502, 'upstream failed\n');
      });
    };
    attempt(pick(), upstreams.length > 1);
  }

  function pick() {
    const target = upstreams[next % upstreams.length];
    next = (next + 1) % upstreams.length;
    return target;
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address().port;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    stats,
    /** Replaces the targets (e.g. a replica restarted on another port); the turn continues. */
    setTargets(list) {
      upstreams = parseTargets(list);
    },
    /** Stops listening, ends every request in flight and every connection, both sides. */
    close() {
      closed = true;
      for (const flight of [...inFlight]) flight.abort();
      const done = new Promise((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      return done;
    },
  };
}

function parseArgs(argv) {
  const options = { targets: [] };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--target') options.targets.push(value());
    else if (flag === '--port') options.port = Number(value());
    else if (flag === '--host') options.host = value();
    else if (flag === '--deadline-ms') options.deadlineMs = Number(value());
    else if (flag === '--max-concurrent') options.maxConcurrent = Number(value());
    else throw new Error(`round-robin proxy: unknown option ${argv[i]}`);
  }
  return options;
}

async function main() {
  const proxy = await startRoundRobinProxy(parseArgs(process.argv.slice(2)));
  console.log(`round-robin proxy on ${proxy.url}`);
  const stop = () => proxy.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}

module.exports = { startRoundRobinProxy, DEFAULT_DEADLINE_MS, DEFAULT_MAX_CONCURRENT };

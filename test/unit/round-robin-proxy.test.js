'use strict';
// The round-robin proxy of scripts/round-robin-proxy.js in front of real loopback servers.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { startRoundRobinProxy } = require('../../scripts/round-robin-proxy');

const SCRIPT = path.resolve(__dirname, '../../scripts/round-robin-proxy.js');

/** A loopback server answering with its name, the request it saw (method, url, headers) and its body in base64. */
async function echoServer(name) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('X-Served-By', name);
      res.end(
        JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('base64') }),
      );
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, sockets, url: `http://127.0.0.1:${server.address().port}`, close: () => closeServer(server) };
}

/** A loopback server that takes requests and never answers them. */
async function hangingServer() {
  const sockets = new Set();
  const requests = [];
  const server = http.createServer((req) => requests.push(req));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, sockets, requests, url: `http://127.0.0.1:${server.address().port}`, close: () => closeServer(server) };
}

function closeServer(server) {
  server.closeAllConnections();
  return new Promise((r) => server.close(r));
}

/** A port nothing listens on. */
async function deadUrl() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return `http://127.0.0.1:${port}`;
}

/** `{ status, headers, body: Buffer }` of one request, with exactly the headers given. */
function request(url, { method = 'GET', headers = {}, body, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = (r) => JSON.parse(r.body.toString('utf8'));
const until = async (check) => {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
};

describe('round-robin proxy (scripts/round-robin-proxy.js)', function () {
  this.timeout(10000);
  const toClose = [];
  const track = (x) => (toClose.push(x), x);

  afterEach(async () => {
    for (const x of toClose.splice(0).reverse()) await x.close();
  });

  it('sends consecutive requests to the targets in turn: A, B, A, B', async () => {
    const a = track(await echoServer('A'));
    const b = track(await echoServer('B'));
    const proxy = track(await startRoundRobinProxy({ targets: [a.url, b.url] }));
    assert.match(proxy.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const names = [];
    for (let i = 0; i < 4; i++) names.push(json(await request(`${proxy.url}/hook/${i}`)).name);
    assert.deepEqual(names, ['A', 'B', 'A', 'B']);
    assert.deepEqual(proxy.stats.byTarget, { [`${a.url}/`]: 2, [`${b.url}/`]: 2 });
    assert.equal(proxy.stats.requests, 4);
  });

  it('a bounded load (300 requests, 20 at a time, keep-alive) is shared evenly and leaves nothing in flight', async () => {
    const a = track(await echoServer('A'));
    const b = track(await echoServer('B'));
    const proxy = track(await startRoundRobinProxy({ targets: [a.url, b.url] }));
    const client = new http.Agent({ keepAlive: true, maxSockets: 20 });
    const statuses = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        request(`${proxy.url}/load/${i}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: `{"n":${i}}`,
          agent: client,
        }).then((r) => r.status),
      ),
    );
    client.destroy();
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.deepEqual(Object.values(proxy.stats.byTarget), [150, 150]);
    assert.equal(proxy.stats.active, 0);
    assert.ok(a.sockets.size <= 20 && b.sockets.size <= 20, `upstream connections reused: ${a.sockets.size} + ${b.sockets.size}`);
  });

  it('keeps method, path and query, headers, a 64 KiB binary request body and the response intact', async () => {
    const a = track(await echoServer('A'));
    const proxy = track(await startRoundRobinProxy({ targets: [a.url] }));
    const body = crypto.randomBytes(64 * 1024);
    body[0] = 0;
    body[1] = 0xff;
    const res = await request(`${proxy.url}/pbx/hook/s3cr3t?event=ringing&id=1_2-0&x=%20y`, {
      method: 'PUT',
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': body.length,
        'X-Custom': 'kept',
        Connection: 'keep-alive, x-hop',
        'X-Hop': 'dropped',
      },
      body,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-served-by'], 'A');
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
    const seen = json(res);
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.url, '/pbx/hook/s3cr3t?event=ringing&id=1_2-0&x=%20y');
    assert.equal(seen.headers['x-custom'], 'kept');
    assert.equal(seen.headers['content-type'], 'application/octet-stream');
    assert.equal(seen.headers['content-length'], String(64 * 1024));
    assert.equal(seen.headers['x-hop'], undefined, 'a header named by Connection is hop-by-hop');
    assert.ok(Buffer.from(seen.body, 'base64').equals(body), 'the request body arrives byte for byte');
  });

  it('streams a 64 KiB binary response back byte for byte', async () => {
    const payload = crypto.randomBytes(64 * 1024);
    const server = http.createServer((req, res) => {
      res.writeHead(201, { 'Content-Type': 'application/octet-stream' });
      // Two writes, no Content-Length: the response is chunked end to end.
      res.write(payload.subarray(0, 1000));
      setImmediate(() => res.end(payload.subarray(1000)));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    track({ close: () => closeServer(server) });
    const proxy = track(await startRoundRobinProxy({ targets: [`http://127.0.0.1:${server.address().port}`] }));
    const res = await request(`${proxy.url}/file`);
    assert.equal(res.status, 201);
    assert.ok(res.body.equals(payload));
  });

  it('appends the client address to X-Forwarded-For, or starts it', async () => {
    const a = track(await echoServer('A'));
    const proxy = track(await startRoundRobinProxy({ targets: [a.url] }));
    const first = json(await request(`${proxy.url}/`));
    assert.equal(first.headers['x-forwarded-for'], '127.0.0.1');
    const appended = json(await request(`${proxy.url}/`, { headers: { 'X-Forwarded-For': '203.0.113.7, 198.51.100.2' } }));
    assert.equal(appended.headers['x-forwarded-for'], '203.0.113.7, 198.51.100.2, 127.0.0.1');
  });

  it('skips a target that refuses the connection, once, and answers 502 when no target takes it', async () => {
    const dead = await deadUrl();
    const b = track(await echoServer('B'));
    const proxy = track(await startRoundRobinProxy({ targets: [dead, b.url] }));
    const body = Buffer.from('{"Event":"ringing"}');
    const names = [];
    for (let i = 0; i < 4; i++) {
      const res = await request(`${proxy.url}/hook`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      assert.equal(res.status, 200);
      assert.equal(Buffer.from(json(res).body, 'base64').toString(), '{"Event":"ringing"}', 'the retried request keeps its whole body');
      names.push(json(res).name);
    }
    assert.deepEqual(names, ['B', 'B', 'B', 'B']);
    // The retry takes the next turn, so with two targets each request meets the dead one first.
    assert.equal(proxy.stats.skipped, 4);
    assert.deepEqual(proxy.stats.byTarget, { [`${dead}/`]: 4, [`${b.url}/`]: 4 });

    proxy.setTargets([dead, await deadUrl()]);
    const res = await request(`${proxy.url}/hook`, { method: 'POST', body });
    assert.equal(res.status, 502);
    assert.equal(proxy.stats.failed, 1);
  });

  it('answers 504 at the deadline when the target never answers, and drops the upstream request', async () => {
    const hang = track(await hangingServer());
    const proxy = track(await startRoundRobinProxy({ targets: [hang.url], deadlineMs: 300 }));
    const res = await request(`${proxy.url}/slow`);
    assert.equal(res.status, 504);
    assert.equal(proxy.stats.timedOut, 1);
    assert.equal(hang.requests.length, 1);
    await until(() => hang.sockets.size === 0);
    assert.equal(proxy.stats.active, 0);
  });

  it('drops the upstream request when the client goes away', async () => {
    const hang = track(await hangingServer());
    const proxy = track(await startRoundRobinProxy({ targets: [hang.url] }));
    const req = http.request(`${proxy.url}/gone`, { agent: false });
    req.on('error', () => {});
    req.end();
    await until(() => hang.requests.length === 1 && hang.sockets.size === 1);
    req.destroy();
    await until(() => hang.sockets.size === 0);
    assert.equal(proxy.stats.active, 0);
  });

  it('answers 503 at once above the concurrency bound', async () => {
    const hang = track(await hangingServer());
    const proxy = track(await startRoundRobinProxy({ targets: [hang.url], deadlineMs: 5000, maxConcurrent: 2 }));
    const pending = [request(`${proxy.url}/1`).catch(() => null), request(`${proxy.url}/2`).catch(() => null)];
    await until(() => hang.requests.length === 2);
    const third = await request(`${proxy.url}/3`);
    assert.equal(third.status, 503);
    assert.equal(third.headers['retry-after'], '1');
    assert.equal(proxy.stats.busy, 1);
    await proxy.close();
    await Promise.all(pending);
  });

  it('close() ends requests in flight and every connection on both sides', async () => {
    const a = track(await echoServer('A'));
    const hang = track(await hangingServer());
    const proxy = await startRoundRobinProxy({ targets: [a.url, hang.url] });
    const client = new http.Agent({ keepAlive: true });
    assert.equal((await request(`${proxy.url}/ok`, { agent: client })).status, 200); // leaves an idle keep-alive connection both ways
    const inFlight = request(`${proxy.url}/hangs`).then(
      (r) => r.status,
      (err) => err.code,
    );
    await until(() => hang.requests.length === 1);
    assert.equal(a.sockets.size, 1, 'the proxy keeps its upstream connection alive');
    await proxy.close();
    assert.equal(await inFlight, 'ECONNRESET');
    await until(() => a.sockets.size === 0 && hang.sockets.size === 0);
    await assert.rejects(request(`${proxy.url}/after`), { code: 'ECONNREFUSED' });
    client.destroy();
  });

  it('listens on loopback only and needs at least one plain-http target', async () => {
    await assert.rejects(startRoundRobinProxy({ targets: ['http://127.0.0.1:9'], host: '0.0.0.0' }), /loopback only/);
    await assert.rejects(startRoundRobinProxy({ targets: [] }), /at least one target/);
    await assert.rejects(startRoundRobinProxy({ targets: ['https://127.0.0.1:9'] }), /not plain http/);
  });

  it('runs from the command line: --port, --target (repeated); Ctrl-C stops it', async () => {
    const a = track(await echoServer('A'));
    const b = track(await echoServer('B'));
    const child = spawn(process.execPath, [SCRIPT, '--port', '0', '--target', a.url, `--target=${b.url}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((r) => child.once('exit', (code) => r(code)));
    try {
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      await until(() => /round-robin proxy on (\S+)/.test(out) || child.exitCode !== null);
      const url = /round-robin proxy on (\S+)/.exec(out)[1];
      const names = [];
      for (let i = 0; i < 3; i++) names.push(json(await request(`${url}/x`)).name);
      assert.deepEqual(names, ['A', 'B', 'A']);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0);
  });
});

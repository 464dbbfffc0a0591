'use strict';
// The webhook router's limits on what a client sends, in the two layouts Node-RED has:
// - raw: the router reads the body itself (Node-RED with httpAdminRoot '/admin');
// - pre-parsed: Node-RED's default settings, where the admin app (express.json / urlencoded,
//   5 MB) is mounted on '/' in front of the httpNode app; there the router claims its requests
//   where they reach the server, and a body parsed by someone else is measured after the fact.
// Size: 64 KiB of what was received (query included), chunked or not. Time: one read deadline
// from the request's arrival. Every rejection closes the connection, even while the client keeps
// sending. The deadline is shortened here; mocha's timeout is the hang guard.
const assert = require('node:assert/strict');
const http = require('node:http');
const express = require('express');
const { WebhookRouter, WEBHOOK_BODY_LIMIT } = require('../../dist/core/webhook-router');
const { openRequest, sendChunked, jsonOfSize } = require('../helpers/raw-http');

const SECRET = 's3cr3t-value';
const PATH = `/pbx/abc/${SECRET}`;
const DEADLINE_MS = 400;
const JSON_TYPE = { 'Content-Type': 'application/json' };

/** Node-RED's server, as red.js builds it: admin app with its body parsers, then the httpNode app. */
function nodeRedLikeApp(router, nodeRoot) {
  const top = express();
  const admin = express();
  admin.use(express.json({ limit: '5mb' }));
  admin.use(express.urlencoded({ limit: '5mb', extended: true }));
  admin.get('/settings', (_req, res) => res.json({ ok: true }));
  top.use('/', admin);
  const httpNode = express();
  httpNode.use(router.handle);
  httpNode.post('/other', (req, res) => res.json({ body: req.body }));
  top.use(nodeRoot, httpNode);
  return top;
}

const LAYOUTS = {
  raw: { root: '' },
  'pre-parsed, claimed at the server': { root: '', preParsed: true, claim: true },
  'pre-parsed, httpNodeRoot /red': { root: '/red', preParsed: true, claim: true },
  'pre-parsed, no server to claim at': { root: '', preParsed: true, claim: false },
};

function setUp(layout, limits = {}) {
  const ctx = { deliveries: [], rejections: [] };
  before(async () => {
    ctx.router = new WebhookRouter([], { readDeadlineMs: DEADLINE_MS, ...limits });
    ctx.router.register({
      path: '/pbx/abc',
      secret: SECRET,
      onDelivery: (input, fingerprint, reply) => {
        reply(200);
        ctx.deliveries.push(input);
      },
      onRejected: (status, reason) => ctx.rejections.push({ status, reason }),
    });
    const handler = layout.preParsed
      ? nodeRedLikeApp(ctx.router, layout.root || '/')
      : (req, res) =>
          ctx.router.handle(req, res, () => {
            res.writeHead(404);
            res.end('no route');
          });
    ctx.server = http.createServer(handler);
    if (layout.claim) ctx.router.claimOn(ctx.server, `${layout.root}/`);
    await new Promise((r) => ctx.server.listen(0, '127.0.0.1', r));
    ctx.port = ctx.server.address().port;
    ctx.path = (p = PATH) => `${layout.root}${p}`;
  });
  after(() => {
    ctx.server.closeAllConnections();
    return new Promise((r) => ctx.server.close(r));
  });
  beforeEach(() => {
    ctx.deliveries.length = 0;
    ctx.rejections.length = 0;
  });
  return ctx;
}

const event = (id) => ({ Event: 'ringing', Id: id });

for (const [name, layout] of Object.entries(LAYOUTS)) {
  describe(`core: webhook router limits (${name})`, function () {
    this.timeout(10000);
    const ctx = setUp(layout);

    it('accepts a chunked JSON body of exactly 64 KiB', async () => {
      const body = jsonOfSize(event('exact'), WEBHOOK_BODY_LIMIT);
      const reply = await sendChunked(ctx.port, ctx.path(), body, { headers: JSON_TYPE });
      assert.equal(reply.status, 200);
      assert.equal(ctx.deliveries.length, 1);
      assert.equal(ctx.deliveries[0].body.Id, 'exact');
      assert.equal(ctx.deliveries[0].body.Pad.length, JSON.parse(body).Pad.length);
    });

    for (const [label, size] of [
      ['64 KiB + 1 byte', WEBHOOK_BODY_LIMIT + 1],
      ['2 MB', 2 * 1024 * 1024],
    ]) {
      it(`answers 413 to a chunked JSON body of ${label} and closes the connection`, async () => {
        const req = openRequest(ctx.port, { path: ctx.path(), headers: JSON_TYPE });
        const buf = Buffer.from(jsonOfSize(event('big'), size));
        for (let i = 0; i < buf.length; i += 16 * 1024) req.write(buf.subarray(i, i + 16 * 1024));
        req.end();
        const reply = await req.reply;
        assert.equal(reply.status, 413);
        assert.equal(reply.headers.connection, 'close');
        assert.equal(await req.closed, true);
        assert.deepEqual(ctx.deliveries, []);
      });
    }

    it('answers 413 to a form body of 64 KiB + 1 byte', async () => {
      const body = `Event=ringing&Id=form&Pad=${'y'.repeat(WEBHOOK_BODY_LIMIT + 1 - 'Event=ringing&Id=form&Pad='.length)}`;
      const reply = await sendChunked(ctx.port, ctx.path(), body, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      assert.equal(reply.status, 413);
      assert.deepEqual(ctx.deliveries, []);
    });

    it('counts the query string into the 64 KiB', async () => {
      const body = jsonOfSize(event('with-query'), WEBHOOK_BODY_LIMIT - 3);
      const reply = await sendChunked(ctx.port, ctx.path(`${PATH}?a=12`), body, { headers: JSON_TYPE });
      assert.equal(reply.status, 413);
      assert.deepEqual(ctx.deliveries, []);
      const fits = await sendChunked(ctx.port, ctx.path(`${PATH}?a=1`), body, { headers: JSON_TYPE });
      assert.equal(fits.status, 200);
    });

    it('answers 400 to an unparseable body and closes the connection', async () => {
      const headers = { 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': 3 };
      const req = openRequest(ctx.port, { path: ctx.path(), headers, chunked: false });
      req.write('abc');
      const reply = await req.reply;
      assert.equal(reply.status, 400);
      assert.equal(reply.headers.connection, 'close');
      assert.equal(await req.closed, true);
    });

    // Without a server to claim at, Node-RED's body parser holds such a request until its body ends.
    const routerReads = !layout.preParsed || layout.claim;
    if (routerReads)
      it('every reply to a wrong secret, a wrong method or a declared oversize closes the connection', async () => {
        const cases = [
          [401, { path: ctx.path('/pbx/abc/wrong'), headers: JSON_TYPE }],
          [401, { path: ctx.path('/pbx/abc'), headers: { 'Content-Type': 'text/plain' } }],
          [405, { method: 'PUT', path: ctx.path(), headers: JSON_TYPE }],
          [413, { path: ctx.path(), headers: { ...JSON_TYPE, 'Content-Length': 10 * 1024 * 1024 }, chunked: false }],
        ];
        for (const [status, request] of cases) {
          const req = openRequest(ctx.port, request);
          req.write('{"Event":');
          // The client keeps sending (bounded: 400 writes, 2 s) while it waits.
          const sending = req.keepSending('"xxxxxxxxxxxxxxxx', { every: 5, times: 400 });
          const reply = await req.reply;
          assert.equal(reply.status, status, `${request.method ?? 'POST'} ${request.path}`);
          assert.equal(reply.headers.connection, 'close');
          assert.equal(await req.closed, true);
          assert.ok((await sending) < 400, 'closed while the client was still sending');
        }
        assert.deepEqual(ctx.deliveries, []);
      });
  });
}

for (const [name, layout] of Object.entries(LAYOUTS).filter(([, l]) => !l.preParsed || l.claim)) {
  describe(`core: webhook read deadline and open reads (${name})`, function () {
    this.timeout(10000);
    const ctx = setUp(layout, { maxOpenReads: 2 });

    it('answers 408 to a body dribbled past the read deadline and closes the connection', async () => {
      const req = openRequest(ctx.port, { path: ctx.path(), headers: JSON_TYPE });
      req.write('{');
      // One byte every 20 ms: 250 writes would take 5 s; the deadline is 400 ms.
      const sent = await req.keepSending('"', { every: 20, times: 250 });
      const reply = await req.reply;
      assert.equal(reply.status, 408);
      assert.equal(reply.headers.connection, 'close');
      assert.equal(await req.closed, true);
      assert.ok(sent < 250, `${sent} writes`);
      assert.deepEqual(ctx.deliveries, []);
      assert.deepEqual(
        ctx.rejections.map((r) => r.status),
        [408],
      );
    });

    it('the deadline counts from arrival: headers then a pause past it gives 408', async () => {
      const req = openRequest(ctx.port, { path: ctx.path(), headers: JSON_TYPE });
      const reply = await req.reply;
      assert.equal(reply.status, 408);
      assert.equal(await req.closed, true);
    });

    it('answers 503 to a body past the bound of open reads per endpoint, then serves again', async () => {
      const slow = [0, 1].map(() => {
        const req = openRequest(ctx.port, { path: ctx.path(), headers: JSON_TYPE });
        req.write('{');
        return req;
      });
      await new Promise((r) => setTimeout(r, 50));
      const third = openRequest(ctx.port, { path: ctx.path(), headers: JSON_TYPE });
      third.write('{"Event":"ringing","Id":"third"}');
      third.end();
      const busy = await third.reply;
      assert.equal(busy.status, 503);
      assert.equal(busy.headers['retry-after'], '5');
      assert.equal(await third.closed, true);
      for (const req of slow) assert.equal((await req.reply).status, 408);
      const reply = await sendChunked(ctx.port, ctx.path(), JSON.stringify(event('after')), { headers: JSON_TYPE });
      assert.equal(reply.status, 200);
      assert.deepEqual(
        ctx.deliveries.map((d) => d.body.Id),
        ['after'],
      );
    });

    it('a client that gives up frees its read at once', async () => {
      for (let i = 0; i < 3; i++) {
        const req = openRequest(ctx.port, { path: ctx.path(), headers: JSON_TYPE });
        req.write('{');
        await new Promise((r) => setTimeout(r, 20));
        req.destroy();
        await req.closed;
      }
      await new Promise((r) => setTimeout(r, 20));
      const reply = await sendChunked(ctx.port, ctx.path(), JSON.stringify(event('freed')), { headers: JSON_TYPE });
      assert.equal(reply.status, 200);
    });
  });
}

describe('core: webhook router claims only its own requests', function () {
  this.timeout(10000);
  const ctx = setUp(LAYOUTS['pre-parsed, claimed at the server']);

  it('other routes keep their body parsers and sizes', async () => {
    const body = jsonOfSize({ a: 1 }, 200 * 1024);
    const res = await fetch(`http://127.0.0.1:${ctx.port}/other`, { method: 'POST', body, headers: JSON_TYPE });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).body.Pad.length, JSON.parse(body).Pad.length);
    assert.equal((await fetch(`http://127.0.0.1:${ctx.port}/settings`)).status, 200);
  });
});

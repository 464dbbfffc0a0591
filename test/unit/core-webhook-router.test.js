'use strict';
// The webhook router on a bare loopback HTTP server: secret handling (modelled on how webhook
// verifiers are tested: missing, wrong, rotated), methods, limits, parsing and clean removal.
const assert = require('node:assert/strict');
const http = require('node:http');
const { WebhookRouter, WEBHOOK_BODY_LIMIT } = require('../../dist/core/webhook-router');

function startServer(router) {
  const server = http.createServer((req, res) =>
    router.handle(req, res, () => {
      res.writeHead(404);
      res.end('no route');
    }),
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function send(server, path, { method = 'POST', body, headers = {} } = {}) {
  const { port } = server.address();
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, body, headers });
  return { status: res.status, text: await res.text() };
}

describe('core: webhook router', () => {
  let server;
  let router;
  let deliveries;
  let rejections;
  let unregister;

  beforeEach(async () => {
    router = new WebhookRouter();
    deliveries = [];
    rejections = [];
    unregister = router.register({
      path: '/pbx/abc/',
      secret: 's3cr3t-value',
      onDelivery: (input, fingerprint, reply) => {
        reply(200);
        deliveries.push({ input, fingerprint });
      },
      onRejected: (status, reason) => rejections.push({ status, reason }),
    });
    server = await startServer(router);
  });
  afterEach(() => new Promise((resolve) => server.close(resolve)));

  const settle = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

  it('accepts the secret as the last path segment, with a query string appended', async () => {
    const r = await send(server, '/pbx/abc/s3cr3t-value?event=dial-in&CallID=1', { method: 'GET' });
    assert.equal(r.status, 200);
    await settle();
    assert.equal(deliveries.length, 1);
    assert.equal(deliveries[0].input.query.event, 'dial-in');
    assert.equal(deliveries[0].input.method, 'GET');
  });

  it('accepts the secret in X-Webhook-Secret', async () => {
    const r = await send(server, '/pbx/abc', {
      body: '{"Event":"ringing"}',
      headers: { 'Content-Type': 'application/json', 'X-Webhook-Secret': 's3cr3t-value' },
    });
    assert.equal(r.status, 200);
    await settle();
    assert.deepEqual({ ...deliveries[0].input.body }, { Event: 'ringing' });
  });

  for (const [label, path, headers] of [
    ['missing secret', '/pbx/abc', {}],
    ['wrong secret segment', '/pbx/abc/wrong', {}],
    ['secret with one char changed', '/pbx/abc/s3cr3t-valuf', {}],
    ['secret prefix only', '/pbx/abc/s3cr3t', {}],
    ['old secret in header after rotation', '/pbx/abc', { 'X-Webhook-Secret': 'old-secret' }],
  ]) {
    it(`answers 401 with no detail for a ${label}`, async () => {
      const r = await send(server, path, { body: '{}', headers: { 'Content-Type': 'application/json', ...headers } });
      assert.equal(r.status, 401);
      assert.equal(r.text, 'Unauthorized');
      await settle();
      assert.equal(deliveries.length, 0);
      assert.equal(rejections[0].status, 401);
    });
  }

  it('answers 405 to other methods and 413 past 64 KiB, 400 to unparseable JSON', async () => {
    assert.equal((await send(server, '/pbx/abc/s3cr3t-value', { method: 'PUT', body: '{}' })).status, 405);
    assert.equal((await send(server, '/pbx/abc/s3cr3t-value', { method: 'DELETE' })).status, 405);
    const big = JSON.stringify({ Event: 'x'.repeat(WEBHOOK_BODY_LIMIT) });
    assert.equal((await send(server, '/pbx/abc/s3cr3t-value', { body: big, headers: { 'Content-Type': 'application/json' } })).status, 413);
    assert.equal(
      (await send(server, '/pbx/abc/s3cr3t-value', { body: '{"Event": ', headers: { 'Content-Type': 'application/json' } })).status,
      400,
    );
    assert.equal(
      (await send(server, '/pbx/abc/s3cr3t-value', { body: '[1,2]', headers: { 'Content-Type': 'application/json' } })).status,
      400,
    );
    await settle();
    assert.equal(deliveries.length, 0);
  });

  it('parses form bodies and plain-text URLs, first of repeated keys wins', async () => {
    await send(server, '/pbx/abc/s3cr3t-value?a=1&a=2', {
      body: 'CallID=7&CallStatus=ANSWER',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    await send(server, '/pbx/abc/s3cr3t-value', { body: 'https://pbx/recording/1_2-1-1.mp3', headers: { 'Content-Type': 'text/plain' } });
    await settle();
    assert.equal(deliveries[0].input.query.a, '1');
    assert.equal(deliveries[0].input.body.CallID, '7');
    assert.equal(deliveries[1].input.body, 'https://pbx/recording/1_2-1-1.mp3');
  });

  it('gives identical deliveries the same fingerprint, different ones another', async () => {
    for (const body of ['{"a":1}', '{"a":1}', '{"a":2}']) {
      await send(server, '/pbx/abc/s3cr3t-value', { body, headers: { 'Content-Type': 'application/json' } });
    }
    await settle();
    assert.equal(deliveries[0].fingerprint, deliveries[1].fingerprint);
    assert.notEqual(deliveries[0].fingerprint, deliveries[2].fingerprint);
  });

  it('passes other paths on and forgets a path once unregistered', async () => {
    assert.equal((await send(server, '/elsewhere')).status, 404);
    unregister();
    assert.deepEqual(router.paths, []);
    assert.equal((await send(server, '/pbx/abc/s3cr3t-value', { body: '{}' })).status, 404);
  });

  it('refuses a second endpoint on the same path', () => {
    assert.throws(() => router.register({ path: '/pbx/abc', onDelivery() {}, onRejected() {} }), /already used/);
  });

  it('limits senders to allowFrom addresses', async () => {
    unregister();
    router.register({
      path: '/pbx/abc',
      allowFrom: '10.0.0.0/8, 192.168.1.5',
      onDelivery: (_i, _f, reply) => {
        reply(200);
        deliveries.push(1);
      },
      onRejected: (s) => rejections.push(s),
    });
    assert.equal((await send(server, '/pbx/abc', { body: '{}' })).status, 401);
    unregister = router.register({
      path: '/pbx/lo',
      allowFrom: '127.0.0.0/8',
      onDelivery: (_i, _f, reply) => {
        reply(200);
        deliveries.push(1);
      },
      onRejected() {},
    });
    assert.equal((await send(server, '/pbx/lo', { body: '{}' })).status, 200);
    assert.throws(() => router.register({ path: '/pbx/bad', allowFrom: 'not-an-ip', onDelivery() {}, onRejected() {} }), /not an IP/);
  });
});

'use strict';
// The webhook's size and time limits through a real Node-RED process, in both root layouts:
// default settings (admin root '/': Node-RED's admin body parsers, 5 MB and no deadline, run in
// front of every node route) and admin root '/admin' (the endpoint reads raw bodies). Chunked
// bodies over 64 KiB are refused and never emitted, a dribbled body is cut off at the read
// deadline, and a rejected client that keeps sending has its connection closed.
// Time bounds are mocha hang guards only.
const assert = require('node:assert/strict');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { Collector } = require('../helpers/collector');
const { distinctiveSecrets, providerFlows } = require('../helpers/hardening');
const { openRequest, sendChunked, jsonOfSize } = require('../helpers/raw-http');
const { WEBHOOK_BODY_LIMIT, WEBHOOK_READ_DEADLINE_MS } = require('../../dist/core/webhook-router');

const secrets = distinctiveSecrets('LIMITS');
const SECRET_PATH = `/pbx/hd-tcx/${encodeURIComponent(secrets['3cx-webapi'].webhookSecret)}`;
const JSON_TYPE = { 'Content-Type': 'application/json' };
const EVENTS = '/events/tcx';

/** A 3CX ringing event for call `id`, as JSON of exactly `size` bytes. */
function ringing(id, size) {
  return jsonOfSize({ Event: 'ringing', Callerid: '05551239988', User: '202', Usertype: 'ext', Id: `${id}-0`, Did: '0211' }, size);
}

for (const adminRoot of ['/', '/admin']) {
  describe(`hardening: webhook limits in a real Node-RED process (admin root ${adminRoot})`, function () {
    this.timeout(60000);
    let nr;
    let collector;
    let port;
    const tag = adminRoot === '/' ? 'dflt' : 'admn';

    before(async () => {
      collector = await new Collector().start();
      nr = await new NodeRedProcess({ adminRoot }).start();
      await nr.deploy(
        providerFlows({
          collector: collector.url,
          simUrl: 'http://127.0.0.1:9',
          secrets,
          providers: ['3cx-webapi'],
          name: `limits ${tag}`,
        }),
      );
      port = new URL(nr.url).port;
    });

    after(async () => {
      await nr?.stop();
      nr?.cleanup();
      await collector?.close();
    });

    it('chunked bodies of 70 KB and 2 MB with the right secret: 413, connection closed, nothing emitted', async () => {
      const big = [
        [`260301120000_${tag}70`, 70 * 1000],
        [`260301120000_${tag}2m`, 2 * 1024 * 1024],
      ];
      for (const [callId, size] of big) {
        const req = openRequest(port, { path: SECRET_PATH, headers: JSON_TYPE });
        const buf = Buffer.from(ringing(callId, size));
        for (let i = 0; i < buf.length; i += 16 * 1024) req.write(buf.subarray(i, i + 16 * 1024));
        req.end();
        const reply = await req.reply;
        assert.equal(reply.status, 413, `${size} bytes`);
        assert.equal(reply.headers.connection, 'close');
        assert.equal(await req.closed, true);
      }
      // A delivery sent after them arrives; had either big one been emitted, it would be there first.
      const after = `260301120000_${tag}ok`;
      assert.equal((await sendChunked(port, SECRET_PATH, ringing(after, 300), { headers: JSON_TYPE })).status, 200);
      await collector.waitFor(EVENTS, 1, { filter: (m) => m.payload.callId === after });
      assert.deepEqual(
        collector.on(EVENTS, (m) => big.some(([id]) => m.payload.callId === id)),
        [],
      );
    });

    it('a chunked body of exactly 64 KiB is accepted and emitted', async () => {
      const callId = `260301120000_${tag}64`;
      assert.equal((await sendChunked(port, SECRET_PATH, ringing(callId, WEBHOOK_BODY_LIMIT), { headers: JSON_TYPE })).status, 200);
      const [msg] = await collector.waitFor(EVENTS, 1, { filter: (m) => m.payload.callId === callId });
      assert.equal(msg.payload.event, 'ringing');
    });

    it('reads the raw body: the malformed JSON of the 3CX documentation is repaired and emitted', async () => {
      // Under default settings Node-RED's JSON parser used to answer this 400 before the endpoint saw it.
      const callId = `260301120000_${tag}mj`;
      const body = `{"Event":"ringing","User":"202","Usertype":"ext","Id":"${callId}-0","Callerid": 05551239988"}`;
      const res = await fetch(`${nr.url}${SECRET_PATH}`, { method: 'POST', body, headers: JSON_TYPE });
      assert.equal(res.status, 200);
      const [msg] = await collector.waitFor(EVENTS, 1, { filter: (m) => m.payload.callId === callId });
      assert.equal(msg.payload.from, '05551239988');
    });

    it(`a body dribbled with the right secret: 408 at the ${WEBHOOK_READ_DEADLINE_MS} ms read deadline, connection closed`, async () => {
      const callId = `260301120000_${tag}dr`;
      const req = openRequest(port, { path: SECRET_PATH, headers: JSON_TYPE });
      req.write(`{"Event":"ringing","User":"202","Id":"${callId}-0","Pad":"`);
      // One byte every 100 ms, at most 400 (40 s); stops once the server closes.
      const sending = req.keepSending('x', { every: 100, times: 400 });
      const reply = await req.reply;
      assert.equal(reply.status, 408);
      assert.equal(reply.headers.connection, 'close');
      assert.equal(await req.closed, true);
      assert.ok((await sending) < 400, 'closed while the client was still sending');
      assert.deepEqual(
        collector.on(EVENTS, (m) => m.payload.callId === callId),
        [],
      );
    });

    for (const [what, request] of [
      ['a wrong secret', { path: '/pbx/hd-tcx/wrong-secret', headers: JSON_TYPE }],
      ['no secret', { path: '/pbx/hd-tcx', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }],
    ]) {
      it(`401 to ${what} while the client keeps sending: connection closed`, async () => {
        const req = openRequest(port, request);
        req.write('{"Event":"ringing","Pad":"');
        // 100 writes of 1 KiB, 20 ms apart (2 s): the server must close before they are done.
        const sending = req.keepSending('x'.repeat(1024), { every: 20, times: 100 });
        const reply = await req.reply;
        assert.equal(reply.status, 401);
        assert.equal(reply.headers.connection, 'close');
        assert.equal(await req.closed, true);
        assert.ok((await sending) < 100, 'closed while the client was still sending');
      });
    }

    it('Node-RED logged no error for the refused requests and still serves its other routes', async () => {
      assert.equal((await fetch(nr.adminUrl('/settings'))).status, 200);
      assert.equal((await fetch(`${nr.url}/h/probe`)).status, 200);
      const errors = nr.logs.filter((l) => /BadRequestError|PayloadTooLargeError|request aborted|raw-body/i.test(l));
      assert.deepEqual(errors, []);
    });
  });
}

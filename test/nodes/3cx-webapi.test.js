'use strict';
// The five nodes in a real Node-RED runtime (node-red-node-test-helper), 3CX WebAPI account
// against the loopback simulator.
const assert = require('node:assert/strict');
const { helper, load, webhook, collect, statusOf, wait, pbxConfig, actionNodes, eventNodes } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
const SECRET = 'hook-secret-0123456789';
const PATH = '/pbx/test-3cx';

const configNode = (sim, extra = {}) =>
  pbxConfig({ name: 'sim', provider: '3cx-webapi', baseUrl: `${sim.url}/webapi`, webhookPath: PATH, ...extra });
const actionFlow = (sim, type, props, cfgExtra) => [configNode(sim, cfgExtra), ...actionNodes(type, props)];
const creds = (extra = {}) => ({ cfg: { accessKey: KEY, webhookSecret: SECRET, ...extra } });

describe('nodes with a 3cx-webapi account', function () {
  this.timeout(15000);
  let sim;

  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 20, talkMs: 200 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  describe('pbx-call', () => {
    it('places a makecall from msg.payload parameters, passes the msg on, once', async () => {
      await load(actionFlow(sim, 'pbx-call', { operation: 'makecall' }), creds());
      const out = collect('out', 1);
      helper.getNode('n1').receive({ payload: { extension: '117', destination: '05550001122' }, keep: 'me' });
      const [msg] = await out;
      assert.deepEqual(msg.payload, { ok: true, operation: 'makecall', extension: '117', destination: '05550001122' });
      assert.deepEqual(msg.raw, { firstNum: '117', secondNum: '05550001122' });
      assert.deepEqual(msg.pbx, { provider: '3cx-webapi', operation: 'makecall' });
      assert.equal(msg.keep, 'me', 'the input msg is passed on');
      const calls = sim.received('3cx-webapi', '/makecall');
      assert.equal(calls.length, 1);
      assert.deepEqual(calls[0].query, { firstnum: '117', secondnum: '05550001122' });
    });

    it('resolves TypedInputs (str, msg, jsonata) and msg.operation when the node has none', async () => {
      await load(
        actionFlow(sim, 'pbx-call', {
          operation: '',
          extension: 'ext',
          extensionType: 'msg',
          destination: '"0555" & number',
          destinationType: 'jsonata',
        }),
        creds(),
      );
      const out = collect('out', 1);
      helper.getNode('n1').receive({ operation: 'makecall', ext: 204, number: '123' });
      const [msg] = await out;
      assert.equal(msg.payload.extension, '204');
      assert.equal(msg.payload.destination, '0555123');
    });

    it('reports an unsupported operation to Catch with code unsupported, red status, and msg.pbx.error', async () => {
      await load(actionFlow(sim, 'pbx-call', { operation: 'doublecall' }), creds());
      const node = helper.getNode('n1');
      const status = statusOf(node, (s) => s.fill === 'red');
      const caught = collect('caught', 1);
      node.receive({ payload: { extension: '117', from: '1', destination: '2' } });
      const [msg] = await caught;
      assert.equal(msg.error.code, 'unsupported');
      assert.match(msg.error.message, /doublecall is not supported by 3CX WebAPI/);
      assert.deepEqual(msg.pbx.error, {
        message: msg.pbx.error.message,
        code: 'unsupported',
        provider: '3cx-webapi',
        operation: 'doublecall',
      });
      assert.equal((await status).text, 'not supported');
      assert.equal(sim.received('3cx-webapi').length, 0, 'nothing was sent');
    });

    it('rejects missing parameters with invalid_input, sending nothing', async () => {
      await load(actionFlow(sim, 'pbx-call', { operation: 'transfer' }), creds());
      const caught = collect('caught', 1);
      helper.getNode('n1').receive({ payload: { extension: '117' } });
      const [msg] = await caught;
      assert.equal(msg.error.code, 'invalid_input');
      assert.match(msg.error.message, /needs destination/);
      assert.equal(sim.received('3cx-webapi').length, 0);
    });

    it('reports a makecall whose answer never comes as outcome_unknown, sent exactly once', async () => {
      await load(actionFlow(sim, 'pbx-call', { operation: 'makecall' }, { timeout: 300 }), creds());
      sim.addFault({ pathPrefix: '/webapi', delayMs: 1500 });
      const caught = collect('caught', 1);
      helper.getNode('n1').receive({ payload: { extension: '117', destination: '0555' } });
      const [msg] = await caught;
      assert.equal(msg.error.code, 'outcome_unknown');
      await wait(400);
      assert.equal(sim.received('3cx-webapi', '/makecall').length, 1);
      assert.ok(!msg.error.message.includes(KEY), 'no access key in the error');
    });

    it('maps a wrong access key to auth_failed and never shows the key', async () => {
      await load(actionFlow(sim, 'pbx-call', { operation: 'answer' }), creds({ accessKey: 'wrong-key-ABCDEFGHIJ' }));
      const caught = collect('caught', 1);
      helper.getNode('n1').receive({ payload: { extension: '117' } });
      const [msg] = await caught;
      assert.equal(msg.error.code, 'auth_failed');
      assert.match(msg.error.message, /\/webapi\/\*\*\*\/answer/);
      assert.ok(!JSON.stringify(msg).includes('wrong-key-ABCDEFGHIJ'));
    });
  });

  describe('pbx-status and pbx-queue', () => {
    it('answers extension-state with a normalized state', async () => {
      await load(actionFlow(sim, 'pbx-status', { query: 'extension-state', extension: '117', extensionType: 'str' }), creds());
      const out = collect('out', 1);
      helper.getNode('n1').receive({ payload: {} });
      const [msg] = await out;
      assert.equal(msg.payload.extension, '117');
      assert.equal(msg.payload.state, 'idle');
      assert.equal(msg.payload.registered, true);
      assert.deepEqual(msg.payload.queues, [{ queue: '807', loggedIn: true }]);
    });

    it('logs an agent out of one queue and the queue shows it', async () => {
      await load(actionFlow(sim, 'pbx-queue', { operation: 'logout' }), creds());
      const out = collect('out', 1);
      helper.getNode('n1').receive({ payload: { extension: '202', queue: '820' } });
      const [msg] = await out;
      assert.deepEqual(msg.payload, { ok: true, operation: 'logout', extension: '202', queue: '820' });
      assert.deepEqual(sim.received('3cx-webapi', 'ext.queue.set')[0].query, { num: '202', queue: '820', log: 'OFF' });
    });

    it('watch: baseline first, then exactly the extensions whose state changed', async () => {
      await sim.close();
      sim = await startSimulator({ stepMs: 20, talkMs: 8000 });
      await load(actionFlow(sim, 'pbx-status', { query: '', watch: true, interval: 2 }), creds());
      const node = helper.getNode('n1');
      await statusOf(node, (s) => s.fill === 'green');
      const out = collect('out', 1, 6000);
      const simCall = await fetch(`${sim.url}/webapi/${KEY}/makecall?firstnum=117&secondnum=0555`);
      assert.equal(simCall.status, 200);
      const [msg] = await out;
      assert.equal(msg.payload.extension, '117');
      assert.equal(msg.payload.previous, 'idle');
      assert.ok(['ringing', 'busy'].includes(msg.payload.state));
      assert.equal(msg.topic, '117');
      const more = collect('out', 1, 2500);
      await assert.rejects(more, /got 0 of 1/, 'no other extension changed, so nothing else is sent');
    });
  });

  describe('pbx-event', () => {
    const eventFlow = (sim, props = {}) => [configNode(sim), ...eventNodes(props)];

    it('emits a makecall as ringing, answered, hangup and recording on four outputs', async () => {
      await load(eventFlow(sim), creds());
      sim.setWebhook('3cx-webapi', `http://127.0.0.1:${await nodeRedPort()}${PATH}/${SECRET}`);
      // The helper's httpNode is not listening on a port: relay the simulator's webhooks into it.
      const got = Promise.all(['ringing', 'answered', 'hangup', 'recording'].map((id) => collect(id, 1)));
      const res = await fetch(`${sim.url}/webapi/${KEY}/makecall?firstnum=117&secondnum=05550001122`);
      assert.equal(res.status, 200);
      const [[r], [a], [h], [rec]] = await got;
      assert.equal(r.topic, 'ringing');
      assert.equal(r.payload.direction, 'outbound');
      assert.equal(r.payload.from, '117');
      assert.equal(r.payload.to, '05550001122');
      assert.equal(a.payload.callId, r.payload.callId);
      assert.equal(h.payload.outcome, 'answered');
      assert.ok(h.payload.durationSeconds >= 1);
      assert.equal(h.payload.call.answeredBy, '117');
      assert.deepEqual(
        h.payload.call.route.map((x) => x.event),
        ['ringing', 'answered'],
      );
      assert.equal(rec.payload.recordingUrls.length, 1);
      assert.equal(rec.raw.Event, 'recording');
    });

    it('filters by event, extension and direction, and drops exact duplicates', async () => {
      await load(
        [
          configNode(sim),
          {
            id: 'ev',
            type: 'pbx-event',
            pbx: 'cfg',
            events: ['ringing'],
            extension: '202',
            direction: 'inbound',
            outputs: 1,
            wires: [['out']],
          },
          { id: 'out', type: 'helper' },
        ],
        creds(),
      );
      const out = collect('out', 1);
      const post = (body) => webhook().post(`${PATH}/${SECRET}`).set('Content-Type', 'application/json').send(body);
      const ring202 = { Event: 'ringing', Callerid: '555', User: '202', Usertype: 'ext', Did: '', Id: '1_1-0' };
      assert.equal((await post({ ...ring202, User: '800', Usertype: 'other' })).status, 200);
      assert.equal((await post(ring202)).status, 200);
      assert.equal((await post(ring202)).status, 200, 'a duplicate is still accepted');
      assert.equal((await post({ Event: 'dialing', Callerid: '555', User: '202', Id: '2_2-0' })).status, 200);
      assert.equal((await post({ Event: 'incomingcall_started', User: '202', Id: '1_1-1' })).status, 200);
      const [msg] = await out;
      assert.equal(msg.payload.extension, '202');
      await wait(100);
      const account = helper.getNode('cfg').account;
      assert.equal(account.counters.duplicates, 1);
    });

    it('rejects bad webhooks with 4xx and keeps working', async () => {
      await load(eventFlow(sim), creds());
      assert.equal((await webhook().post(PATH).send({ Event: 'ringing' })).status, 401);
      assert.equal((await webhook().post(`${PATH}/nope`).send({ Event: 'ringing' })).status, 401);
      assert.equal((await webhook().put(`${PATH}/${SECRET}`).send({})).status, 405);
      assert.equal((await webhook().post(`${PATH}/${SECRET}`).set('Content-Type', 'text/plain').send('{"Event": ')).status, 400);
      const big = 'x'.repeat(70 * 1024);
      assert.equal((await webhook().post(`${PATH}/${SECRET}`).set('Content-Type', 'text/plain').send(big)).status, 413);
      const out = collect('ringing', 1);
      assert.equal((await webhook().get(`${PATH}/${SECRET}?event=ringing&user=100&usertype=ext&id=5_5-0&callerid=1`)).status, 200);
      const [msg] = await out;
      assert.equal(msg.payload.extension, '100');
    });

    it('removes its route on redeploy: one route per config, none left behind', async () => {
      for (let i = 0; i < 3; i++) {
        await load(eventFlow(sim), creds());
        assert.equal((await webhook().get(`${PATH}/${SECRET}?event=x&id=1_1-0`)).status, 200);
        await helper.unload();
      }
      await load([{ id: 'other', type: 'pbx-config', provider: '3cx-webapi', baseUrl: `${sim.url}/webapi`, webhookPath: '/pbx/other' }], {
        other: { accessKey: KEY },
      });
      assert.equal((await webhook().get(`${PATH}/${SECRET}?event=x&id=1_1-0`)).status, 404, 'old path gone');
      assert.equal((await webhook().get('/pbx/other?event=x&id=1_1-0')).status, 200);
    });
  });

  describe('pbx-config admin endpoints', () => {
    it('tests a connection with typed credentials, and refuses stored ones for another host', async () => {
      await load([configNode(sim)], creds());
      const ok = await helper
        .request()
        .post('/pbx-config/test')
        .send({ provider: '3cx-webapi', baseUrl: `${sim.url}/webapi`, timeout: 2000, credentials: { accessKey: KEY } });
      assert.equal(ok.body.ok, true);
      assert.match(ok.body.message, /connected/);
      const stored = await helper
        .request()
        .post('/pbx-config/test')
        .send({ id: 'cfg', provider: '3cx-webapi', baseUrl: `${sim.url}/webapi`, credentials: { accessKey: '__PWRD__' } });
      assert.equal(stored.body.ok, true);
      const elsewhere = await helper
        .request()
        .post('/pbx-config/test')
        .send({ id: 'cfg', provider: '3cx-webapi', baseUrl: 'http://127.0.0.1:9/webapi', credentials: { accessKey: '__PWRD__' } });
      assert.equal(elsewhere.body.ok, false);
      assert.equal(elsewhere.body.code, 'invalid_input');
      const wrong = await helper
        .request()
        .post('/pbx-config/test')
        .send({ provider: '3cx-webapi', baseUrl: `${sim.url}/webapi`, credentials: { accessKey: 'bad-key-XYZXYZXYZ' } });
      assert.equal(wrong.body.ok, false);
      assert.equal(wrong.body.code, 'auth_failed');
      assert.ok(!JSON.stringify(wrong.body).includes('bad-key-XYZXYZXYZ'));
    });

    it('lists the operations of each provider', async () => {
      await load([configNode(sim)], creds());
      const res = await helper.request().get('/pbx-config/providers');
      const ops = res.body['3cx-webapi'].operations.map((o) => `${o.node}:${o.name}`);
      assert.ok(ops.includes('call:makecall'));
      assert.ok(!ops.includes('call:doublecall'));
    });
  });
});

/** Serves the helper's httpNode on a loopback port so the simulator can reach it. */
let relay;
async function nodeRedPort() {
  const http = require('node:http');
  if (relay) relay.close();
  relay = http.createServer((req, res) => require('../helpers/red').webhookApp()(req, res));
  await new Promise((r) => relay.listen(0, '127.0.0.1', r));
  relay.unref();
  return relay.address().port;
}

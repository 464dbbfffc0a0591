'use strict';
// The package's nodes in a Node-RED runtime (node-red-node-test-helper) with a cloud-callcenter
// account against the loopback simulator, whose callbacks reach the pbx-config webhook.
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, webhook, webhookApp, collect, statusOf, wait, pbxConfig, actionNodes, eventNodes } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const { appId: APP_ID, appKey: APP_KEY } = DEFAULT_CREDENTIALS['cloud-callcenter'];
const SECRET = 'cc-hook-secret-0123456789';
const PATH = '/pbx/test-cc';

const configNode = (sim, extra = {}) =>
  pbxConfig({ name: 'call center', provider: 'cloud-callcenter', baseUrl: `${sim.url}/callcenter`, webhookPath: PATH, ...extra });
const creds = (extra = {}) => ({ cfg: { appId: APP_ID, appKey: APP_KEY, webhookSecret: SECRET, ...extra } });

describe('nodes with a cloud-callcenter account', function () {
  this.timeout(15000);
  let sim;
  let relay;

  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 20, talkMs: 1100 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
    if (relay) relay.close();
    relay = undefined;
  });

  /** Serves the runtime's httpNode on a loopback port and points the simulator's callbacks at it. */
  async function relayCallbacks() {
    relay = http.createServer((req, res) => webhookApp()(req, res));
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    sim.setWebhook('cloud-callcenter', `http://127.0.0.1:${relay.address().port}${PATH}/${SECRET}`);
  }

  it('pbx-call makecall: result msg with the call uuid, raw envelope, msg.pbx', async () => {
    await load([configNode(sim), ...actionNodes('pbx-call', { operation: 'makecall' })], creds());
    const out = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: '90240001', destination: '13800138000' }, keep: 'me' });
    const [msg] = await out;
    const live = sim.provider('cloud-callcenter').state().calls[0];
    assert.deepEqual(msg.payload, {
      ok: true,
      operation: 'makecall',
      extension: '90240001',
      destination: '13800138000',
      callId: live.uuid,
    });
    assert.deepEqual(msg.raw, {
      ret: 200,
      data: { status: 0, desc: 'call success', result: { uuid: live.uuid, customuuid: '' } },
      msg: '',
    });
    assert.deepEqual(msg.pbx, { provider: 'cloud-callcenter', operation: 'makecall' });
    assert.equal(msg.keep, 'me');
  });

  it('pbx-event: the callbacks of one call as ringing, answered, hangup and recording', async () => {
    await load([configNode(sim), ...actionNodes('pbx-call', { operation: 'makecall' }), ...eventNodes()], creds());
    await relayCallbacks();
    const got = Promise.all(['ringing', 'answered', 'hangup', 'recording'].map((id) => collect(id, 1, 8000)));
    const placed = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: '90240002', destination: '13800138000' } });
    const [result] = await placed;
    const [[r], [a], [h], [rec]] = await got;
    const callId = result.payload.callId;

    assert.equal(r.topic, 'ringing');
    assert.deepEqual(
      [r, a, h, rec].map((m) => [m.payload.event, m.payload.callId, m.payload.provider]),
      [
        ['ringing', callId, 'cloud-callcenter'],
        ['answered', callId, 'cloud-callcenter'],
        ['hangup', callId, 'cloud-callcenter'],
        ['recording', callId, 'cloud-callcenter'],
      ],
    );
    assert.equal(r.payload.direction, 'outbound');
    assert.equal(r.payload.extension, '90240002');
    assert.equal(r.payload.from, '90240002');
    assert.equal(r.payload.to, '13800138000');
    assert.equal(r.raw.status, 'ring');
    assert.equal(r.raw.uuid, callId);
    assert.ok('customuuid' in r.raw, 'customuuid stays reachable in msg.raw');

    assert.equal(h.payload.call.outcome, 'answered');
    assert.equal(h.payload.call.answeredBy, '90240002');

    const billsec = Number(rec.raw.billsec);
    assert.ok(billsec >= 1);
    assert.deepEqual(rec.payload.recordingUrls, [rec.raw.recordurl]);
    assert.match(rec.raw.recordurl, new RegExp(`/callcenter/record/${callId}\\.mp3$`));
    assert.equal(rec.payload.durationSeconds, billsec);
    assert.equal(rec.payload.call.durationSeconds, billsec);
    assert.equal(rec.payload.call.hangupCause, '10001');
    assert.equal(rec.payload.call.outcome, 'answered');
    assert.deepEqual(
      rec.payload.call.route.map((x) => `${x.event}:${x.extension}`),
      ['ringing:90240002', 'answered:90240002'],
    );
    const audio = await fetch(rec.raw.recordurl);
    assert.equal(audio.status, 200, 'the recording URL is served');
  });

  for (const [scenario, expected] of [
    ['inbound-missed', { events: ['ringing', 'hangup'], direction: 'inbound', outcome: 'missed' }],
    [
      'api-doublecall',
      { events: ['ringing', 'answered', 'ringing', 'answered', 'hangup', 'recording'], direction: 'outbound', outcome: 'answered' },
    ],
    [
      'extension-to-extension',
      { events: ['ringing', 'ringing', 'answered', 'hangup', 'recording'], direction: 'internal', outcome: 'answered' },
    ],
  ]) {
    it(`pbx-event: scenario ${scenario}`, async () => {
      await load([configNode(sim), ...eventNodes({ outputs: 1, wires: [['all']] }), { id: 'all', type: 'helper' }], creds());
      await relayCallbacks();
      const got = collect('all', expected.events.length, 8000);
      const { callId } = await sim.provider('cloud-callcenter').play(scenario);
      const msgs = await got;
      assert.deepEqual(
        msgs.map((m) => m.payload.event),
        expected.events,
      );
      assert.ok(msgs.every((m) => m.payload.callId === callId && m.payload.direction === expected.direction));
      const hangup = msgs.find((m) => m.payload.event === 'hangup');
      assert.equal(hangup.payload.call.outcome, expected.outcome);
      await wait(100);
      assert.equal(
        helper.getNode('cfg').account.counters.ignored,
        expected.outcome === 'missed' ? 1 : 0,
        'a CDR without recording is no event',
      );
    });
  }

  it('pbx-event: a callback posted as the vendor documents it, garbage accepted but ignored', async () => {
    await load([configNode(sim), ...eventNodes({ outputs: 1, wires: [['all']] }), { id: 'all', type: 'helper' }], creds());
    const out = collect('all', 1);
    const post = (body) => webhook().post(`${PATH}/${SECRET}`).set('Content-Type', 'application/json').send(body);
    assert.equal((await post({ hello: 'world' })).status, 200);
    assert.equal((await webhook().post(PATH).send({ uuid: 'x', status: 'ring' })).status, 401, 'no secret');
    const res = await post({
      buuid: 'b-1',
      callee: '87847569524',
      caller: '90240005',
      companycode: '9024',
      customuuid: '123Abc',
      direction: 'callout',
      disnumber: '2190240001',
      extnumber: '90240005',
      isbleg: 'false',
      method: '3',
      starttime: '1598598959',
      status: 'ring',
      type: 'call',
      uuid: 'u-1',
    });
    assert.equal(res.status, 200);
    const [msg] = await out;
    assert.equal(msg.payload.extension, '90240005');
    assert.equal(msg.payload.timestamp, '2020-08-28T07:15:59.000Z');
    assert.equal(msg.raw.customuuid, '123Abc');
    assert.equal(helper.getNode('cfg').account.counters.invalid, 1);
  });

  it('a failing action reaches a catch node with msg.error.code and the vendor code', async () => {
    await load([configNode(sim), ...actionNodes('pbx-call', { operation: 'makecall' })], creds());
    const node = helper.getNode('n1');
    const status = statusOf(node, (s) => s.fill === 'red');
    const caught = collect('caught', 1);
    node.receive({ payload: { extension: '90249999', destination: '13800138000' } });
    const [msg] = await caught;
    assert.equal(msg.error.code, 'not_found');
    assert.match(msg.error.message, /code 1012/);
    assert.equal(msg.pbx.error.providerCode, '1012');
    assert.equal(msg.pbx.error.provider, 'cloud-callcenter');
    assert.equal((await status).text, 'not found');
  });

  it('a wrong app key reaches the catch node as auth_failed, no credential in the msg', async () => {
    await load([configNode(sim), ...actionNodes('pbx-status', { query: 'extensions' })], creds({ appKey: 'wrong-app-key-QWERTY123' }));
    const caught = collect('caught', 1);
    helper.getNode('n1').receive({ payload: {} });
    const [msg] = await caught;
    assert.equal(msg.error.code, 'auth_failed');
    const text = JSON.stringify(msg);
    assert.ok(!text.includes('wrong-app-key-QWERTY123'));
    assert.ok(!text.includes(APP_ID));
  });

  it('pbx-queue: queue is required for login; unsupported set-options', async () => {
    await load([configNode(sim), ...actionNodes('pbx-queue', { operation: '' })], creds());
    const caught = collect('caught', 2);
    helper.getNode('n1').receive({ operation: 'login', payload: { extension: '90240003' } });
    helper
      .getNode('n1')
      .receive({ operation: 'set-options', payload: { extension: '90240003', enabled: 'on', external: 'on', recording: 'all' } });
    const msgs = await caught;
    assert.deepEqual(msgs.map((m) => m.error.code).sort(), ['invalid_input', 'unsupported']);
    assert.equal(sim.received('cloud-callcenter').length, 0);
  });

  it('pbx-queue login then pbx-status queue-agents', async () => {
    await load(
      [
        configNode(sim),
        ...actionNodes('pbx-queue', { operation: 'login', queue: 'queue-2', queueType: 'str' }),
        { id: 's1', type: 'pbx-status', pbx: 'cfg', query: 'queue-agents', queue: 'queue-2', queueType: 'str', wires: [['agents']] },
        { id: 'agents', type: 'helper' },
      ],
      creds(),
    );
    const out = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: '90240006' } });
    assert.deepEqual((await out)[0].payload, { ok: true, operation: 'login', extension: '90240006', queue: 'queue-2' });
    const agents = collect('agents', 1);
    helper.getNode('s1').receive({ payload: {} });
    const [msg] = await agents;
    assert.deepEqual(
      msg.payload.map((a) => [a.extension, a.loggedIn, a.state]),
      [
        ['90240004', true, 'idle'],
        ['90240006', true, 'idle'],
      ],
    );
  });
});

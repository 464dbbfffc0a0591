'use strict';
// The nodes in a real Node-RED runtime (node-red-node-test-helper) with a VoipNow account
// against the loopback simulator: call control, Call Events, status and errors.
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, webhook, webhookApp, collect, pbxConfig, actionNodes, wait } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const { clientId, clientSecret } = DEFAULT_CREDENTIALS.voipnow;
const SECRET = 'hook-secret-voipnow-0123';
const PATH = '/pbx/test-voipnow';

const configNode = (sim, extra = {}) =>
  pbxConfig({ name: 'vn', provider: 'voipnow', baseUrl: `${sim.url}/voipnow`, webhookPath: PATH, ...extra });
const actionFlow = (sim, type, props) => [configNode(sim), ...actionNodes(type, props)];
const creds = (extra = {}) => ({ cfg: { clientId, clientSecret, webhookSecret: SECRET, ...extra } });

describe('nodes with a voipnow account', function () {
  this.timeout(15000);
  let sim;
  let relay;

  /** Serves the helper's httpNode app on a loopback port, so the simulator can deliver to it. */
  async function webhookUrl() {
    relay = http.createServer((req, res) => webhookApp()(req, res));
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${relay.address().port}${PATH}/${SECRET}`;
  }

  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 20, talkMs: 200 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
    if (relay) await new Promise((r) => relay.close(r));
    relay = undefined;
  });

  it('pbx-call makecall: normalized result with the call id, raw PhoneCall, msg passed on', async () => {
    await load(actionFlow(sim, 'pbx-call', { operation: 'makecall' }), creds());
    const out = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: '0003*210', destination: '0555123988' }, keep: 'me' });
    const [msg] = await out;
    const callId = sim.provider('voipnow').state().calls[0].id;
    assert.deepEqual(msg.payload, { ok: true, operation: 'makecall', extension: '0003*210', destination: '0555123988', callId });
    assert.equal(msg.raw[0].id, callId);
    assert.deepEqual(msg.pbx, { provider: 'voipnow', operation: 'makecall' });
    assert.equal(msg.keep, 'me');
    assert.equal(sim.received('voipnow', '/uapi/phoneCalls/@me/simple').length, 1);
  });

  it('pbx-event emits the Call Events of one makecall: ringing, answered, hangup', async () => {
    await load(
      [
        ...actionFlow(sim, 'pbx-call', { operation: 'makecall' }),
        {
          id: 'ev',
          type: 'pbx-event',
          pbx: 'cfg',
          events: [],
          extension: '',
          direction: 'any',
          outputs: 4,
          wires: [['ringing'], ['answered'], ['hangup'], ['recording']],
        },
        { id: 'ringing', type: 'helper' },
        { id: 'answered', type: 'helper' },
        { id: 'hangup', type: 'helper' },
        { id: 'recording', type: 'helper' },
      ],
      creds(),
    );
    sim.setWebhook('voipnow', await webhookUrl(), 'get');
    const got = Promise.all(['ringing', 'answered', 'hangup'].map((id) => collect(id, 1)));
    const placed = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: '0003*210', destination: '0555123988' } });
    const [[made], [[r], [a], [h]]] = await Promise.all([placed, got]);
    const callId = made.payload.callId;
    const common = {
      provider: 'voipnow',
      callId,
      direction: 'outbound',
      extension: '0003*210',
      extensionType: 'extension',
      from: '0003*210',
      to: '0555123988',
    };
    assert.equal(r.topic, 'ringing');
    assert.deepEqual(
      { ...r.payload, timestamp: undefined },
      { ...common, event: 'ringing', providerEvent: 'dial-out', timestamp: undefined },
    );
    assert.deepEqual(
      { ...a.payload, timestamp: undefined },
      { ...common, event: 'answered', providerEvent: 'answer-outgoing', timestamp: undefined },
    );
    assert.equal(h.payload.event, 'hangup');
    assert.equal(h.payload.providerEvent, 'hangup');
    assert.equal(h.payload.outcome, 'answered');
    assert.equal(h.payload.callId, callId);
    assert.equal(h.payload.call.answeredBy, '0003*210');
    assert.deepEqual(
      h.payload.call.route.map((x) => x.event),
      ['ringing', 'answered'],
    );
    // msg.raw is the query string as VoipNow sent it, with the per-type event parameter.
    assert.equal(h.raw.event, 'hangup');
    assert.equal(h.raw.CallID, callId);
    assert.equal(h.raw.CallStatus, 'ANSWER');
    // The simulator records a delivery when its answer arrives, which may be just after the event.
    const deliveries = sim.provider('voipnow').sender.deliveries;
    for (let i = 0; i < 100 && deliveries.length < 3; i++) await wait(10);
    assert.deepEqual(
      deliveries.map((d) => [d.method, d.status, new URL(d.url).searchParams.get('event')]),
      [
        ['GET', 200, 'dial-out'],
        ['GET', 200, 'answer-outgoing'],
        ['GET', 200, 'hangup'],
      ],
    );
  });

  it('pbx-event: a missed inbound call posted as a form, with the type inferred', async () => {
    await load(
      [
        configNode(sim),
        { id: 'ev', type: 'pbx-event', pbx: 'cfg', events: [], extension: '0003*215', direction: 'inbound', outputs: 1, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ],
      creds(),
    );
    sim.setWebhook('voipnow', await webhookUrl(), 'form');
    const out = collect('out', 2);
    const { callId } = await sim.provider('voipnow').play('inbound-missed', { extension: '0003*215', eventParam: false });
    const [ring, hang] = await out;
    assert.deepEqual(
      [ring.payload.event, ring.payload.providerEvent, ring.payload.callId, ring.payload.from, ring.payload.did],
      ['ringing', 'inferred:CALLING', callId, '0555123988', '0212345678'],
    );
    assert.deepEqual([hang.payload.event, hang.payload.outcome, hang.payload.call.outcome], ['hangup', 'missed', 'missed']);
    assert.equal(hang.raw.CallFlow, 'IN');
  });

  it('the webhook refuses a Call Event without the secret', async () => {
    await load(
      [
        configNode(sim),
        { id: 'ev', type: 'pbx-event', pbx: 'cfg', events: [], direction: 'any', outputs: 1, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ],
      creds(),
    );
    assert.equal((await webhook().get(`${PATH}?event=dial-in&CallID=1&CallStatus=CALLING`)).status, 401);
    const out = collect('out', 1);
    assert.equal(
      (await webhook().get(`${PATH}/${SECRET}?event=dial-in&CallID=1&CallStatus=CALLING&CalledExtension=0003*210&CallFlow=IN`)).status,
      200,
    );
    const [msg] = await out;
    assert.deepEqual([msg.payload.event, msg.payload.extension, msg.payload.direction], ['ringing', '0003*210', 'inbound']);
  });

  it('pbx-status extension-state', async () => {
    await load(actionFlow(sim, 'pbx-status', { query: 'extension-state', extension: '0003*210', extensionType: 'str' }), creds());
    const out = collect('out', 1);
    helper.getNode('n1').receive({ payload: {} });
    const [msg] = await out;
    assert.deepEqual([msg.payload.extension, msg.payload.state, msg.payload.registered], ['0003*210', 'idle', true]);
    assert.deepEqual(msg.pbx, { provider: 'voipnow', operation: 'extension-state' });
  });

  it('pbx-queue login', async () => {
    await load(actionFlow(sim, 'pbx-queue', { operation: 'login' }), creds());
    const out = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: '0003*202', queue: '0003*300' } });
    const [msg] = await out;
    assert.deepEqual(msg.payload, { ok: true, operation: 'login', extension: '0003*202', queue: '0003*300' });
    assert.equal(sim.provider('voipnow').state().queues['0003*300']['0003*202'], 1);
  });

  it('an error reaches a Catch node with its code, and the vendor code on msg.pbx.error', async () => {
    await load(actionFlow(sim, 'pbx-status', { query: 'extension-state' }), creds());
    const caught = collect('caught', 1);
    helper.getNode('n1').receive({ payload: { extension: '0003*999' } });
    const [msg] = await caught;
    assert.equal(msg.error.code, 'not_found');
    assert.match(msg.error.message, /extension_invalid/);
    assert.equal(msg.pbx.error.providerCode, 'extension_invalid');
    assert.equal(msg.pbx.error.provider, 'voipnow');
  });

  it('bad client credentials reach Catch as auth_failed without the secret', async () => {
    const secret = 'not-the-secret-QWERTY';
    await load(actionFlow(sim, 'pbx-call', { operation: 'drop' }), creds({ clientSecret: secret }));
    const caught = collect('caught', 1);
    helper.getNode('n1').receive({ payload: { extension: '0003*210' } });
    const [msg] = await caught;
    assert.equal(msg.error.code, 'auth_failed');
    assert.ok(!JSON.stringify(msg).includes(secret));
  });

  it('Test connection from the editor', async () => {
    await load([configNode(sim)], creds());
    const ok = await helper
      .request()
      .post('/pbx-config/test')
      .send({ provider: 'voipnow', baseUrl: `${sim.url}/voipnow`, timeout: 2000, credentials: { clientId, clientSecret } });
    assert.deepEqual(ok.body, { ok: true, message: 'connected, 45 extensions' });
    const bad = await helper
      .request()
      .post('/pbx-config/test')
      .send({ provider: 'voipnow', baseUrl: `${sim.url}/voipnow`, credentials: { clientId, clientSecret: 'bad-secret-ABCDEFG' } });
    assert.equal(bad.body.ok, false);
    assert.equal(bad.body.code, 'auth_failed');
    assert.ok(!JSON.stringify(bad.body).includes('bad-secret-ABCDEFG'));
  });
});

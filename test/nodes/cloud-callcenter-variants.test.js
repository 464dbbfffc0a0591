'use strict';
// Issue 12, cloud call center: the API variants real accounts show, through a real Node-RED
// runtime (node-red-node-test-helper) against the loopback simulator in each of its modes:
// older CDR callbacks (downloadip + recordfilename, no recordurl, published without commas),
// a MakeCall answer without uuid (matched by reference), and SipSignOut with crmid.
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, collect, wait, pbxConfig, actionNodes, eventNodes, webhookApp } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const { parseFormBody } = require('../../dist/simulator/cloud-callcenter');

const { appId: APP_ID, appKey: APP_KEY } = DEFAULT_CREDENTIALS['cloud-callcenter'];
const SECRET = 'cc-variants-secret-0123456789';
const PATH = '/pbx/test-cc-variants';

const configNode = (sim) =>
  pbxConfig({ name: 'call center', provider: 'cloud-callcenter', baseUrl: `${sim.url}/callcenter`, webhookPath: PATH });
const creds = () => ({ cfg: { appId: APP_ID, appKey: APP_KEY, webhookSecret: SECRET } });

/** The form fields of a request the simulator logged (its body starts with the boundary line). */
function formOf(logged) {
  const boundary = logged.body.split('\r\n')[0].slice(2);
  return parseFormBody(Buffer.from(logged.body), `multipart/form-data; boundary=${boundary}`);
}

/** Every message the helper node receives from now on. */
function everyMessage(nodeId) {
  const got = [];
  helper.getNode(nodeId).on('input', (msg) => got.push(msg));
  return got;
}

describe('nodes with a cloud-callcenter account: older and newer API variants', function () {
  this.timeout(15000);
  let sim;
  let relay;

  afterEach(async () => {
    await helper.unload();
    if (sim) await sim.close();
    if (relay) relay.close();
    sim = undefined;
    relay = undefined;
  });

  async function start(modes) {
    sim = await startSimulator({ stepMs: 20, talkMs: 1100, callCenterModes: modes });
  }

  /** Serves the runtime's httpNode on a loopback port and points the simulator's callbacks at it. */
  async function relayCallbacks() {
    relay = http.createServer((req, res) => webhookApp()(req, res));
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    sim.setWebhook('cloud-callcenter', `http://127.0.0.1:${relay.address().port}${PATH}/${SECRET}`);
  }

  it('older CDR without commas: one hangup, then the recording at the URL built from downloadip + recordfilename', async () => {
    await start({ cdr: 'downloadip', cdrWithoutCommas: true });
    await load(
      [
        configNode(sim),
        ...actionNodes('pbx-call', { operation: 'makecall' }),
        ...eventNodes({ outputs: 1, wires: [['all']] }),
        { id: 'all', type: 'helper' },
      ],
      creds(),
    );
    await relayCallbacks();
    const every = everyMessage('all');
    const got = collect('all', 4, 8000);
    const placed = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: '90240002', destination: '13800138000' } });
    const callId = (await placed)[0].payload.callId;
    const msgs = await got;
    assert.deepEqual(
      msgs.map((m) => [m.payload.event, m.payload.callId]),
      [
        ['ringing', callId],
        ['answered', callId],
        ['hangup', callId],
        ['recording', callId],
      ],
    );
    const rec = msgs[3];
    assert.equal(rec.raw.recordurl, undefined, 'the older CDR has no recordurl');
    const port = new URL(sim.url).port;
    assert.equal(rec.raw.downloadip, `127.0.0.1:${port}`);
    assert.equal(rec.raw.recordfilename, `callcenter/record/${callId}.mp3`);
    assert.deepEqual(rec.payload.recordingUrls, [`http://127.0.0.1:${port}/callcenter/record/${callId}.mp3`]);
    assert.equal(rec.payload.direction, 'outbound');
    assert.equal(rec.payload.extension, '90240002');
    assert.ok(rec.raw.billsec >= 1);
    assert.equal(rec.payload.durationSeconds, rec.raw.billsec);
    assert.equal(rec.payload.call.durationSeconds, rec.raw.billsec);
    assert.equal(rec.payload.call.hangupCause, '10001');
    assert.equal(rec.payload.call.outcome, 'answered');
    const audio = await fetch(rec.payload.recordingUrls[0]);
    assert.equal(audio.status, 200, 'the recording is served at the built URL');
    await wait(300);
    assert.equal(every.length, 4, 'no second hangup, nothing after the recording');
    const counters = helper.getNode('cfg').account.counters;
    assert.equal(counters.invalid, 0, 'the CDR without commas was repaired, not refused');
  });

  it('scenario with an older CDR: extension-to-extension, internal, no duplicate hangup', async () => {
    await start();
    await load([configNode(sim), ...eventNodes({ outputs: 1, wires: [['all']] }), { id: 'all', type: 'helper' }], creds());
    await relayCallbacks();
    const every = everyMessage('all');
    const got = collect('all', 5, 8000);
    const { callId } = await sim
      .provider('cloud-callcenter')
      .play('extension-to-extension', { cdr: 'downloadip', cdrWithoutCommas: 'true' });
    const msgs = await got;
    assert.deepEqual(
      msgs.map((m) => m.payload.event),
      ['ringing', 'ringing', 'answered', 'hangup', 'recording'],
    );
    assert.ok(msgs.every((m) => m.payload.callId === callId && m.payload.direction === 'internal'));
    assert.match(msgs[4].payload.recordingUrls[0], new RegExp(`^http://127\\.0\\.0\\.1:\\d+/callcenter/record/${callId}\\.mp3$`));
    await wait(300);
    assert.equal(every.filter((m) => m.payload.event === 'hangup').length, 1);
    assert.equal(every.length, 5);
    assert.equal(helper.getNode('cfg').account.counters.invalid, 0);
  });

  it('MakeCall answered without uuid: the result and every event carry the reference', async () => {
    await start({ makeCallUuid: false });
    await load(
      [
        configNode(sim),
        ...actionNodes('pbx-call', { operation: 'makecall' }),
        ...eventNodes({ outputs: 1, wires: [['all']] }),
        { id: 'all', type: 'helper' },
      ],
      creds(),
    );
    await relayCallbacks();
    const got = collect('all', 4, 8000);
    const placed = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: '90240003', destination: '13800138000', reference: 'crm-4711' } });
    const [result] = await placed;
    assert.deepEqual(result.payload, {
      ok: true,
      operation: 'makecall',
      extension: '90240003',
      destination: '13800138000',
      reference: 'crm-4711',
    });
    assert.equal(result.raw.data.result, undefined, 'the documented answer names no call');
    const msgs = await got;
    assert.deepEqual(
      msgs.map((m) => [m.payload.event, m.payload.reference]),
      [
        ['ringing', 'crm-4711'],
        ['answered', 'crm-4711'],
        ['hangup', 'crm-4711'],
        ['recording', 'crm-4711'],
      ],
    );
    const live = msgs[0].raw.uuid;
    assert.ok(msgs.every((m) => m.payload.callId === live));
    assert.equal(
      formOf(sim.received('cloud-callcenter').find((r) => formOf(r).service === 'App.Sip_Call.MakeCall')).customuuid,
      'crm-4711',
    );
  });

  it('pbx-queue logout sends the agent id as crmid, as SipSignOut requires', async () => {
    await start();
    await load([configNode(sim), ...actionNodes('pbx-queue', { operation: 'logout', queue: 'queue-1', queueType: 'str' })], creds());
    const out = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: '90240001', agentId: '10' } });
    const [msg] = await out;
    assert.deepEqual(msg.payload, { ok: true, operation: 'logout', extension: '90240001', queue: 'queue-1', agentId: '10' });
    const signOut = sim
      .received('cloud-callcenter')
      .map(formOf)
      .find((f) => f.service === 'App.Sip_Queue.SipSignOut');
    const { token: _t, ...fields } = signOut;
    assert.deepEqual(fields, { service: 'App.Sip_Queue.SipSignOut', extnumber: '90240001', queuename: 'queue-1', crmid: '10' });
    const state = sim.provider('cloud-callcenter').state();
    assert.deepEqual(
      state.queues['queue-1'].map((s) => s.extnumber),
      ['90240002'],
    );
  });

  it('pbx-queue logout refuses an agent id that is no number, sending nothing', async () => {
    await start();
    await load([configNode(sim), ...actionNodes('pbx-queue', { operation: 'logout', queue: 'queue-1', queueType: 'str' })], creds());
    const caught = collect('caught', 1);
    helper.getNode('n1').receive({ payload: { extension: '90240001', agentId: 'agent seven' } });
    const [msg] = await caught;
    assert.equal(msg.error.code, 'invalid_input');
    assert.match(msg.error.message, /crmid/);
    assert.equal(sim.received('cloud-callcenter').filter((r) => formOf(r).service === 'App.Sip_Queue.SipSignOut').length, 0);
  });
});

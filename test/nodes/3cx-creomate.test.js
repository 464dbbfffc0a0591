'use strict';
// The Creomate edition of the 3CX WebAPI add-on in a real Node-RED runtime, against the
// simulator speaking Creomate: every scenario gives the events the K2M edition gives for the same
// call (one hangup, recordings with their URLs, numbers in to/did), under one call id, the chid;
// makecall is sent as first/second and its chid is the result's callId and the events' callId.
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, collect, pbxConfig, actionNodes, eventNodes, webhookApp } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const { THREE_CX_SCENARIOS } = require('../../dist/simulator/3cx-scenarios');

const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
const SECRET = 'hook-secret-0123456789';
const PATH = '/pbx/test-3cx-creomate';
const DID = '381213220030';

const configNode = (sim, extra = {}) =>
  pbxConfig({ name: 'sim', provider: '3cx-webapi', baseUrl: `${sim.url}/webapi`, webhookPath: PATH, ...extra });
const creds = { cfg: { accessKey: KEY, webhookSecret: SECRET } };
/** pbx-event `ev` with one output → helper `all`, in arrival order. */
const oneOutput = () => [...eventNodes({ outputs: 1, wires: [['all']] }).filter((n) => n.type !== 'helper'), { id: 'all', type: 'helper' }];

/** What must not depend on the edition: the normalized event without ids, times and the provider's own names. */
function comparable(msg) {
  const p = msg.payload;
  const out = {};
  for (const key of [
    'event',
    'direction',
    'extension',
    'extensionType',
    'from',
    'to',
    'outcome',
    'durationSeconds',
    'transfer',
    'recordingUrls',
  ])
    if (p[key] !== undefined) out[key] = p[key];
  // Each call has its own id in the file name; the leg and file number must match.
  if (out.recordingUrls) out.recordingUrls = out.recordingUrls.map((u) => u.replace(/\/\d{12}_\d+-/, '/<call>-'));
  if (p.call)
    out.call = {
      outcome: p.call.outcome,
      transfers: p.call.transfers,
      answeredBy: p.call.answeredBy,
      durationSeconds: p.call.durationSeconds,
    };
  return out;
}

describe('nodes with a 3cx-webapi account, Creomate edition', function () {
  this.timeout(20000);
  let sim;
  let relay;

  beforeEach(async () => {
    sim = await startSimulator({ providers: ['3cx-webapi'], stepMs: 20, talkMs: 200, threeCxEdition: 'creomate' });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
    if (relay) relay.close();
  });

  /** The helper's httpNode does not listen on a port: serve it on one for the simulator's webhooks. */
  async function relayWebhooks() {
    relay = http.createServer((req, res) => webhookApp()(req, res));
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    sim.setWebhook('3cx-webapi', `http://127.0.0.1:${relay.address().port}${PATH}/${SECRET}`);
  }

  for (const name of Object.keys(THREE_CX_SCENARIOS)) {
    it(`${name}: the same events as the K2M edition, under the chid`, async () => {
      await load([configNode(sim), ...oneOutput()], creds);
      await relayWebhooks();
      const count = THREE_CX_SCENARIOS[name].steps.length;

      const k2mEvents = collect('all', count);
      await sim.provider('3cx-webapi').play(name, { did: DID, edition: 'k2m' });
      // collect() keeps listening after it resolves: take the K2M events before the next call's arrive.
      const k2m = [...(await k2mEvents)];

      const creomateEvents = collect('all', count);
      const { callId } = await sim.provider('3cx-webapi').play(name, { did: DID });
      const creomate = await creomateEvents;

      assert.match(callId, /^00000000-01dc-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const hangups = (events) => events.filter((m) => m.topic === 'hangup').length;
      assert.equal(hangups(creomate), hangups(k2m), 'no hangup more than the K2M edition gives');
      for (const [i, msg] of creomate.entries()) {
        const where = `${name} #${i} ${msg.topic}`;
        assert.equal(msg.payload.callId, callId, where);
        assert.match(msg.payload.legId, /^\d{12}_\d+-\d$/, where);
        assert.equal('unlessEnded' in msg.payload, false, where);
        assert.equal(msg.raw.chid, callId, where);
        const want = comparable(k2m[i]);
        const got = comparable(msg);
        // Creomate sends the number where K2M has none: on a recording, and on a makecall's answer (K2M: MAKECALL).
        if (want.to === undefined && (msg.topic === 'recording' || msg.payload.direction === 'outbound')) delete got.to;
        if (msg.topic === 'recording' && msg.payload.direction === 'outbound') {
          // K2M's recording event names no direction, so its Callerid becomes `from`; Creomate's is an outgoing event.
          assert.equal(got.from, msg.payload.extension, where);
          assert.equal(msg.payload.to, '05551239988', where);
          delete want.from;
          delete got.from;
        }
        assert.deepEqual(got, want, where);
        if (msg.payload.direction === 'inbound') {
          assert.equal(msg.payload.did, DID, `${where}: did is the number, not the rule name`);
          assert.equal(msg.raw.did, `DID ${DID}`, where);
        }
      }
      const recordings = creomate.filter((m) => m.topic === 'recording');
      assert.equal(recordings.length, k2m.filter((m) => m.topic === 'recording').length);
      for (const r of recordings) {
        assert.equal(r.raw.FILES.length, 1);
        assert.deepEqual(r.payload.recordingUrls, r.raw.FILES);
        assert.match(r.raw.event, /^(incoming|outgoing)$/);
      }
    });
  }

  it('makecall: sent as first/second, its chid is the callId of the result and of every event; one hangup, then the recording', async () => {
    await load(
      [configNode(sim, { edition: 'creomate', wires: [] }), ...actionNodes('pbx-call', { operation: 'makecall' }), ...eventNodes()],
      creds,
    );
    await relayWebhooks();
    const hangups = [];
    helper.getNode('hangup').on('input', (msg) => hangups.push(msg));
    const events = Promise.all(['ringing', 'answered', 'hangup', 'recording'].map((id) => collect(id, 1)));
    const out = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: '117', destination: '381629759787' } });
    const [msg] = await out;
    const chid = msg.raw.chid;
    assert.match(chid, /^00000000-01dc-/);
    assert.deepEqual(msg.payload, { ok: true, operation: 'makecall', extension: '117', destination: '381629759787', callId: chid });
    const [request] = sim.received('3cx-webapi', '/makecall');
    assert.deepEqual(request.query, { first: '117', second: '381629759787' });

    const [[ringing], [answered], [hangup], [recording]] = await events;
    for (const e of [ringing, answered, hangup, recording]) assert.equal(e.payload.callId, chid, e.topic);
    assert.equal(answered.payload.providerEvent, 'pickupoutgoing');
    assert.equal(answered.payload.to, '381629759787');
    assert.equal(hangup.payload.outcome, 'answered');
    assert.ok(hangup.payload.durationSeconds >= 0);
    assert.equal(hangup.payload.call.answeredBy, '117');
    assert.equal('unlessEnded' in hangup.payload, false);
    assert.equal(recording.payload.recordingUrls.length, 1);
    assert.match(recording.payload.recordingUrls[0], /\/webapi\/recording\/\d{12}_\d+-1-1\.mp3$/);
    assert.equal(recording.payload.call.outcome, 'answered');
    assert.equal(hangups.length, 1, 'the recording brought no second hangup');
  });
});

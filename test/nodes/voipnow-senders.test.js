'use strict';
// VoipNow Call Events from a sender that names the type in the payload (`EventType`, no
// `?event=`), through a real Node-RED runtime and the loopback simulator in that mode: the
// right events and fields, one hangup per call with the outcome of its CallStatus, routing
// requests not emitted, one extension form for filters and status queries.
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, webhookApp, collect, pbxConfig, actionNodes, eventNodes, wait } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const { clientId, clientSecret } = DEFAULT_CREDENTIALS.voipnow;
const SECRET = 'hook-secret-voipnow-senders-0123';
const PATH = '/pbx/test-voipnow-senders';
const creds = { cfg: { clientId, clientSecret, webhookSecret: SECRET } };

/** Every message a helper node receives, in order. */
function gather(id) {
  const got = [];
  helper.getNode(id).on('input', (msg) => got.push(msg));
  return got;
}

describe('voipnow Call Events with the type in the payload', function () {
  this.timeout(20000);
  let sim;
  let relay;

  const configNode = () => pbxConfig({ name: 'vn', provider: 'voipnow', baseUrl: `${sim.url}/voipnow`, webhookPath: PATH });

  /** Serves the helper's httpNode app on a loopback port and points the simulator's Call Events at it. */
  async function deliverTo(scheme) {
    relay = http.createServer((req, res) => webhookApp()(req, res));
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    sim.setWebhook('voipnow', `http://127.0.0.1:${relay.address().port}${PATH}/${SECRET}`, scheme);
  }

  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 20, talkMs: 200 });
    sim.provider('voipnow').useEventSender('payload');
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
    if (relay) await new Promise((r) => relay.close(r));
    relay = undefined;
  });

  it('a makecall: ringing, an answer (not a hangup), one answered hangup with its Duration', async () => {
    await load([configNode(), ...actionNodes('pbx-call', { operation: 'makecall' }), ...eventNodes()], creds);
    await deliverTo('get');
    const got = Promise.all(['ringing', 'answered', 'hangup'].map((id) => collect(id, 1)));
    const placed = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: '0003*210', destination: '0555123988' } });
    const [[made], [[r], [a], [h]]] = await Promise.all([placed, got]);
    const common = {
      provider: 'voipnow',
      callId: made.payload.callId,
      direction: 'outbound',
      extension: '0003*210',
      extensionType: 'extension',
      from: '0003*210',
      to: '0555123988',
    };
    assert.deepEqual(
      { ...r.payload, timestamp: undefined },
      { ...common, event: 'ringing', providerEvent: 'dial-out', timestamp: undefined },
    );
    assert.deepEqual(
      { ...a.payload, timestamp: undefined },
      { ...common, event: 'answered', providerEvent: 'answer', timestamp: undefined },
    );
    assert.deepEqual(
      [h.payload.event, h.payload.providerEvent, h.payload.outcome, h.payload.call.outcome, h.payload.call.answeredBy],
      ['hangup', 'hangup', 'answered', 'answered', '0003*210'],
    );
    assert.equal(h.raw.EventType, 'hangup');
    assert.equal(h.raw.event, undefined);
    assert.match(h.raw.Duration, /^\d+$/);
    assert.equal(h.payload.durationSeconds, Number(h.raw.Duration));
    const deliveries = sim.provider('voipnow').sender.deliveries;
    for (let i = 0; i < 100 && deliveries.length < 3; i++) await wait(10);
    assert.deepEqual(
      deliveries.map((d) => [d.method, d.status, new URL(d.url).searchParams.get('event'), new URL(d.url).searchParams.get('EventType')]),
      [
        ['GET', 200, null, 'dial-out'],
        ['GET', 200, null, 'answer'],
        ['GET', 200, null, 'hangup'],
      ],
    );
  });

  it('every hangup CallStatus gives one hangup with its outcome; the IVR routing request is not emitted', async () => {
    await load([configNode(), ...eventNodes()], creds);
    await deliverTo('form');
    const ringing = gather('ringing');
    const answered = gather('answered');
    const hangups = gather('hangup');
    const voipnow = sim.provider('voipnow');
    const played = [];
    for (const name of [
      'inbound-busy',
      'inbound-noanswer',
      'inbound-cancelled',
      'outbound-congestion',
      'outbound-chanunavail',
      'inbound-ivr-answered',
    ]) {
      const { callId } = await voipnow.play(name, { duration: 37 });
      played.push([name, callId]);
    }
    // A last call whose hangup arrives after every earlier delivery: anything duplicated came before it.
    const last = new Promise((resolve) => helper.getNode('hangup').on('input', (msg) => msg.raw.CallStatus === 'UNKNOWN' && resolve()));
    const sentinel = await voipnow.play('inbound-missed', { scheme: 'get' });
    await last;
    const outcomes = Object.fromEntries(hangups.map((m) => [m.payload.callId, m.payload.outcome]));
    assert.equal(hangups.length, 7, 'one hangup per call');
    assert.deepEqual(
      played.map(([name, callId]) => [name, outcomes[callId]]),
      [
        ['inbound-busy', 'busy'],
        ['inbound-noanswer', 'missed'],
        ['inbound-cancelled', 'missed'],
        ['outbound-congestion', 'failed'],
        ['outbound-chanunavail', 'failed'],
        ['inbound-ivr-answered', 'answered'],
      ],
    );
    assert.equal(outcomes[sentinel.callId], 'missed');
    assert.equal(ringing.length, 7);
    assert.equal(answered.length, 1);
    const ivrCall = played[5][1];
    const ivrHangup = hangups.find((m) => m.payload.callId === ivrCall).payload;
    assert.equal(ivrHangup.durationSeconds, 37);
    assert.deepEqual(
      ivrHangup.call.route.map((x) => [x.event, x.extension]),
      [
        ['ringing', '0003*210'],
        ['answered', '0003*210'],
      ],
    );
    assert.deepEqual(answered[0].payload.providerEvent, 'answer');
    assert.equal(answered[0].payload.direction, 'inbound');
    // The routing request reached the webhook (200) and was not emitted as any event.
    const types = voipnow.sender.deliveries.map((d) => new URLSearchParams(d.body ?? '').get('EventType'));
    assert.ok(types.includes('call_interactive'), types.join());
    for (const msg of [...ringing, ...answered, ...hangups]) assert.notEqual(msg.raw.EventType, 'call_interactive');
    assert.ok(voipnow.sender.deliveries.every((d) => d.status === 200));
  });

  it('extensions written with a host match the extension filter and the status query', async () => {
    await load(
      [
        configNode(),
        ...actionNodes('pbx-status', { query: 'extension-state', extension: '0003*212', extensionType: 'str' }),
        ...eventNodes({ extension: '0003*212' }),
      ],
      creds,
    );
    await deliverTo('get');
    const hangup = collect('hangup', 1);
    const ringing = collect('ringing', 1);
    const { callId } = await sim.provider('voipnow').play('inbound-busy', { extension: '0003*212', extensionHost: 'pbx.example.com' });
    const [[ring], [hang]] = await Promise.all([ringing, hangup]);
    assert.equal(ring.raw.CalledExtension, '0003*212@pbx.example.com');
    assert.deepEqual(
      [ring.payload.callId, ring.payload.extension, hang.payload.extension, hang.payload.outcome],
      [callId, '0003*212', '0003*212', 'busy'],
    );
    const status = collect('out', 1);
    helper.getNode('n1').receive({ payload: {} });
    const [msg] = await status;
    assert.equal(msg.payload.extension, ring.payload.extension);
  });
});

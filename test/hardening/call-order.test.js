'use strict';
// Webhooks out of order and repeated: answered before ringing, a hangup sent twice, a recording
// after the hangup, ringing / answered arriving after the call ended. Each delivery is one event
// (an exact re-delivery none), and the call summary follows the rule in README ("Choices where
// the spec leaves room"): the final hangup ends the call; later ringing / answered events are
// still emitted but change nothing in its summary.
const assert = require('node:assert/strict');
const { CallTracker } = require('../../dist/core/call-tracker');
const { helper, load, webhook, collect, wait } = require('../helpers/red');

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (s) => new Date(T0 + s * 1000).toISOString();
const ev = (name, s, extra = {}) => ({
  event: name,
  provider: '3cx-webapi',
  providerEvent: name,
  callId: 'call-1',
  direction: 'inbound',
  timestamp: at(s),
  ...extra,
});

describe('hardening: call tracker with events out of order', () => {
  it('answered before ringing: answered call, started at its earliest event', () => {
    const tracker = new CallTracker();
    tracker.apply(ev('answered', 5, { extension: '202', extensionType: 'extension' }));
    tracker.apply(ev('ringing', 2, { extension: '202', extensionType: 'extension' }));
    const h = tracker.apply(ev('hangup', 11, { extension: '202', outcome: 'answered', durationSeconds: 6, legId: 'call-1-1' }));
    assert.deepEqual(h.call, {
      callId: 'call-1',
      startedAt: at(2),
      answeredAt: at(5),
      endedAt: at(11),
      outcome: 'answered',
      durationSeconds: 6,
      route: [
        { event: 'answered', extension: '202', extensionType: 'extension', at: at(5) },
        { event: 'ringing', extension: '202', extensionType: 'extension', at: at(2) },
      ],
      answeredBy: '202',
      transfers: 0,
    });
    assert.equal(h.extensionType, 'extension', 'taken from the route');
  });

  it('a late ringing or answered after the final hangup does not reopen the call', () => {
    const tracker = new CallTracker();
    tracker.apply(ev('ringing', 0, { extension: '820', extensionType: 'queue' }));
    const h = tracker.apply(ev('hangup', 30, { extension: '820', outcome: 'missed' }));
    const ended = structuredClone(h.call);
    assert.equal(ended.outcome, 'missed');
    assert.equal(ended.endedAt, at(30));

    const lateRing = tracker.apply(ev('ringing', 31, { extension: '202', extensionType: 'extension' }));
    const lateAnswer = tracker.apply(ev('answered', 32, { extension: '202' }));
    assert.equal(lateRing.event, 'ringing', 'still emitted');
    assert.equal(lateAnswer.event, 'answered', 'still emitted');
    assert.equal(lateAnswer.call, undefined);

    const again = tracker.apply(ev('hangup', 40, { extension: '202', outcome: 'unknown' }));
    assert.deepEqual(again.call, ended, 'outcome, endedAt, answeredAt, route: as the final hangup left them');
    assert.equal(again.outcome, 'missed', 'the unknown outcome of a repeated hangup comes from the ended call');
    const rec = tracker.apply(ev('recording', 45, { recordingUrls: ['http://pbx/r.mp3'] }));
    assert.deepEqual(rec.call, ended);
  });

  it('a hangup repeated with a different timestamp keeps the first end and outcome', () => {
    const tracker = new CallTracker();
    tracker.apply(ev('ringing', 0, { extension: '117' }));
    tracker.apply(ev('answered', 3, { extension: '117' }));
    const first = tracker.apply(ev('hangup', 10, { extension: '117', outcome: 'answered', durationSeconds: 7, legId: 'call-1-1' }));
    const second = tracker.apply(ev('hangup', 12, { extension: '117', outcome: 'missed', durationSeconds: 7, legId: 'call-1-1' }));
    assert.deepEqual(second.call, first.call);
    assert.equal(second.call.durationSeconds, 7, 'one leg, counted once');
  });

  it('a transferred leg hangup is not final; arriving after the final one it still adds its talk time', () => {
    const tracker = new CallTracker();
    tracker.apply(ev('ringing', 0, { extension: '117', extensionType: 'extension' }));
    tracker.apply(ev('answered', 2, { extension: '117' }));
    const leg = tracker.apply(
      ev('hangup', 9, { extension: '117', outcome: 'answered', durationSeconds: 7, legId: 'c-1', legTransferred: true }),
    );
    assert.equal(leg.call.endedAt, at(9));
    const late = tracker.apply(ev('ringing', 10, { extension: '204', extensionType: 'extension' }));
    assert.equal(late.event, 'ringing');
    tracker.apply(ev('answered', 11, { extension: '204', transfer: 'blind' }));
    const fin = tracker.apply(ev('hangup', 20, { extension: '204', outcome: 'answered', durationSeconds: 9, legId: 'c-2' }));
    assert.equal(fin.call.endedAt, at(20));
    assert.equal(fin.call.answeredBy, '204', 'the call went on after the transferred leg hung up');
    assert.equal(fin.call.transfers, 1);
    assert.deepEqual(
      fin.call.route.map((h) => `${h.event}:${h.extension}`),
      ['ringing:117', 'answered:117', 'ringing:204', 'transfer:204', 'answered:204'],
    );

    // The same call with the transferred leg's hangup arriving last.
    const t2 = new CallTracker();
    t2.apply(ev('answered', 2, { extension: '117' }));
    t2.apply(ev('answered', 11, { extension: '204', transfer: 'attended' }));
    t2.apply(ev('hangup', 20, { extension: '204', outcome: 'answered', durationSeconds: 9, legId: 'c-2' }));
    const lateLeg = t2.apply(
      ev('hangup', 21, { extension: '117', outcome: 'answered', durationSeconds: 7, legId: 'c-1', legTransferred: true }),
    );
    assert.equal(lateLeg.call.durationSeconds, 16, 'both legs');
    assert.equal(lateLeg.call.endedAt, at(20));
    assert.equal(lateLeg.transfer, 'attended');
  });

  it('a recording after the hangup keeps the end and outcome; its CDR sets duration and cause', () => {
    const tracker = new CallTracker();
    tracker.apply(ev('ringing', 0, { extension: '9001' }));
    tracker.apply(ev('answered', 4, { extension: '9001' }));
    tracker.apply(ev('hangup', 40, { extension: '9001', outcome: 'unknown', hangupCause: 'NORMAL_CLEARING' }));
    const rec = tracker.apply(ev('recording', 41, { durationSeconds: 36, hangupCause: 'NORMAL_CLEARING', recordingUrls: ['http://r'] }));
    assert.equal(rec.call.endedAt, at(40));
    assert.equal(rec.call.outcome, 'answered');
    assert.equal(rec.call.durationSeconds, 36);
  });

  it('a recording before the hangup: the hangup still ends the call', () => {
    const tracker = new CallTracker();
    tracker.apply(ev('answered', 4, { extension: '9001' }));
    const rec = tracker.apply(ev('recording', 30, { recordingUrls: ['http://r'] }));
    assert.equal(rec.call.endedAt, at(30));
    const h = tracker.apply(ev('hangup', 31, { extension: '9001', outcome: 'answered' }));
    assert.equal(h.call.endedAt, at(31));
  });
});

// --- the same through each provider's webhook endpoint, in node-red-node-test-helper ----------

const SECRET = 'call-order-hook-secret-51c7';
const PROVIDERS = {
  '3cx-webapi': {
    path: '/pbx/order-3cx',
    credentials: { accessKey: 'order-3cx-access-key' },
    ring: (id, ext = '202') => ({ json: { Event: 'ringing', Id: `${id}-0`, User: ext, Usertype: 'ext', Callerid: '0555123' } }),
    answer: (id) => ({ json: { Event: 'incomingcall_started', Id: `${id}-1`, User: '202', Trtype: 'NotDef', Callerid: '0555123' } }),
    hangup: (id, ok = true) => ({
      json: {
        Event: 'incoming',
        Id: `${id}-1`,
        User: '202',
        Finishtype: ok ? 'Ok' : 'Missed',
        Duration: ok ? '00:06' : '',
        Transfer: 'False',
      },
    }),
    recording: (id) => ({
      json: { Event: 'recording', Id: `${id}-1`, User: '202', FileUrls: [`http://pbx.test/recording/${id}-1-1.mp3`] },
    }),
  },
  voipnow: {
    path: '/pbx/order-voipnow',
    credentials: { clientId: 'order-vn-client', clientSecret: 'order-vn-secret' },
    ring: (id, ext = '202') => ({
      query: `event=dial-in&CallID=${id}&CallStatus=CALLING&CallFlow=IN&CalledExtension=0003*${ext}&CalledDID=0211`,
    }),
    answer: (id) => ({ query: `event=answer-incoming&CallID=${id}&CallStatus=ANSWER&CallFlow=IN&CalledExtension=0003*202&CalledDID=0211` }),
    hangup: (id, ok = true) => ({
      query: `event=hangup&CallID=${id}&CallStatus=${ok ? 'ANSWER' : 'UNKNOWN'}&CallFlow=IN&CalledExtension=0003*202&CalledDID=0211`,
    }),
    // VoipNow has no recording callback: the second perspective's hangup stands in for "after".
    recording: (id) => ({ query: `event=hangup&CallID=${id}&CallStatus=ANSWER&CallFlow=OUT&CallerExtension=0003*203&CalledDID=0211` }),
  },
  'cloud-callcenter': {
    path: '/pbx/order-cc',
    credentials: { appId: 'order-cc-app', appKey: 'order-cc-key' },
    ring: (id, ext = '202') => ({
      json: {
        type: 'call',
        status: 'ring',
        uuid: id,
        direction: 'callin',
        extnumber: `90240${ext}`,
        starttime: String(Math.floor(Date.now() / 1000) - 10),
      },
    }),
    answer: (id) => ({ json: { type: 'call', status: 'answer', uuid: id, direction: 'callin', extnumber: '90240002' } }),
    hangup: (id, ok = true) => ({
      json: { type: 'call', status: 'hangup', uuid: id, direction: 'callin', extnumber: '90240002', ...(ok ? {} : { answertime: '0' }) },
    }),
    recording: (id) => ({
      json: { uuid: id, recordurl: `http://cc.test/record/${id}.mp3`, billsec: '31', hangupcause: 'NORMAL_CLEARING' },
    }),
  },
};
const LABELS = { '3cx-webapi': 'tcx', voipnow: 'vn', 'cloud-callcenter': 'cc' };

function flow() {
  const nodes = [];
  for (const [provider, p] of Object.entries(PROVIDERS)) {
    const l = LABELS[provider];
    nodes.push(
      { id: `cfg-${l}`, type: 'pbx-config', provider, baseUrl: 'http://127.0.0.1:9', webhookPath: p.path, timeout: 500, allowFrom: '' },
      { id: `ev-${l}`, type: 'pbx-event', pbx: `cfg-${l}`, events: [], extension: '', direction: 'any', outputs: 1, wires: [[`out-${l}`]] },
      { id: `out-${l}`, type: 'helper' },
    );
  }
  return nodes;
}
const credentials = () =>
  Object.fromEntries(
    Object.entries(PROVIDERS).map(([provider, p]) => [`cfg-${LABELS[provider]}`, { ...p.credentials, webhookSecret: SECRET }]),
  );

async function send(provider, delivery) {
  const url = `${PROVIDERS[provider].path}/${SECRET}`;
  const res = delivery.json
    ? await webhook().post(url).set('Content-Type', 'application/json').send(JSON.stringify(delivery.json))
    : await webhook().get(`${url}?${delivery.query}`);
  assert.equal(res.status, 200);
}

/** Sends `steps` in order and returns the events the provider's pbx-event node emitted. */
async function play(provider, steps, expected) {
  const got = collect(`out-${LABELS[provider]}`, expected);
  for (const step of steps) {
    await send(provider, step);
    await wait(2);
  }
  const msgs = await got;
  const extra = [];
  helper.getNode(`out-${LABELS[provider]}`).on('input', (m) => extra.push(m));
  await wait(100);
  assert.deepEqual(
    extra.map((m) => m.topic),
    [],
    'no event beyond one per distinct delivery',
  );
  return msgs.map((m) => m.payload);
}

describe('hardening: out-of-order and repeated webhooks at every provider endpoint', function () {
  this.timeout(20000);
  before(async () => load(flow(), credentials()));
  after(() => helper.unload());

  let n = 0;
  const callId = (provider) => (provider === '3cx-webapi' ? `260301100000_${++n}` : `order-${provider}-${++n}`);

  for (const provider of Object.keys(PROVIDERS)) {
    const p = PROVIDERS[provider];

    it(`${provider}: answered before ringing, hangup twice, recording after: one event each, answered call`, async () => {
      const id = callId(provider);
      const events = await play(provider, [p.answer(id), p.ring(id), p.hangup(id), p.hangup(id), p.recording(id)], 4);
      assert.deepEqual(
        events.map((e) => e.event),
        ['answered', 'ringing', 'hangup', provider === 'voipnow' ? 'hangup' : 'recording'],
      );
      const hangup = events[2];
      assert.equal(hangup.outcome, 'answered');
      assert.equal(hangup.call.outcome, 'answered');
      assert.equal(hangup.call.answeredAt, events[0].timestamp);
      assert.equal(hangup.call.endedAt, hangup.timestamp);
      assert.ok(hangup.call.startedAt <= hangup.call.answeredAt);
      assert.ok(
        hangup.call.route.every((h) => h.at >= hangup.call.startedAt),
        'no hop before the start',
      );
      assert.deepEqual(
        hangup.call.route.map((h) => h.event),
        ['answered', 'ringing'],
      );
      assert.equal(hangup.call.answeredBy, events[0].extension);
      const last = events[3].call;
      assert.equal(last.endedAt, hangup.call.endedAt, 'what came after the hangup did not move its end');
      assert.equal(last.outcome, 'answered');
      if (provider === 'cloud-callcenter') assert.equal(last.durationSeconds, 31, 'the CDR gives the talk time');
      if (provider === '3cx-webapi') assert.equal(last.durationSeconds, 6);
    });

    it(`${provider}: ringing and answered after a missed call's hangup do not reopen it`, async () => {
      const id = callId(provider);
      const events = await play(provider, [p.ring(id), p.hangup(id, false), p.answer(id), p.ring(id, '204'), p.recording(id)], 5);
      assert.deepEqual(
        events.map((e) => e.event),
        ['ringing', 'hangup', 'answered', 'ringing', provider === 'voipnow' ? 'hangup' : 'recording'],
      );
      const ended = events[1].call;
      assert.equal(ended.outcome, 'missed');
      const after = events[4].call;
      assert.equal(after.outcome, 'missed');
      assert.equal(after.endedAt, ended.endedAt);
      assert.equal(after.answeredAt, undefined);
      assert.equal(after.answeredBy, undefined);
      assert.deepEqual(after.route, ended.route);
    });
  }
});

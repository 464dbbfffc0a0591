'use strict';
// Every row of every webhook scenario in the 3CX WebAPI vendor document (POST and GET schemes),
// as extracted from the document (test/fixtures/vendor), normalized and checked field by field.
const assert = require('node:assert/strict');
const { threeCxScenarios } = require('../helpers/vendor-docs');
const { normalize3cxWebhook } = require('../../dist/providers/3cx-webapi/webhook');
const { parseWebhookBody, parseForm } = require('../../dist/core/webhook-router');
const { CallTracker } = require('../../dist/core/call-tracker');
const { THREE_CX_SCENARIOS, GET_SCHEME_EVENT } = require('../../dist/simulator/3cx-scenarios');

const AT = new Date('2026-03-07T11:49:03.000Z');
const IN = '05551239988';

/** Builds the WebhookInput the router would hand over for a documented row. */
function inputOf(scheme, payload) {
  if (scheme === 'post') {
    const parsed = parseWebhookBody(payload, 'application/json');
    assert.ok(parsed.ok, `router accepts: ${payload}`);
    return { method: 'POST', query: Object.create(null), rawQuery: '', body: parsed.body, receivedAt: AT };
  }
  // GET: the row is the query string; the bare recording URL arrives URL-encoded.
  const rawQuery = payload.includes('=') ? payload : encodeURIComponent(payload);
  return { method: 'GET', query: parseForm(rawQuery), rawQuery, body: undefined, receivedAt: AT };
}

const ring = (ext, type, leg, extra = {}) => ({
  event: 'ringing',
  extension: ext,
  extensionType: type,
  direction: 'inbound',
  from: IN,
  to: ext,
  leg,
  ...extra,
});
const answer = (ext, leg, extra = {}) => ({
  event: 'answered',
  extension: ext,
  extensionType: 'extension',
  direction: 'inbound',
  from: IN,
  to: ext,
  leg,
  ...extra,
});
const hang = (ext, leg, outcome, durationSeconds, extra = {}) => ({
  event: 'hangup',
  extension: ext,
  direction: 'inbound',
  from: IN,
  to: ext,
  leg,
  outcome,
  durationSeconds,
  ...extra,
});
const rec = (ext, leg, extra = {}) => ({
  event: 'recording',
  extension: ext,
  direction: 'unknown',
  from: IN,
  leg,
  recording: true,
  ...extra,
});
const dial = (ext, leg, extra = {}) => ({
  event: 'ringing',
  extension: ext,
  extensionType: 'extension',
  direction: 'outbound',
  from: ext,
  to: IN,
  leg,
  ...extra,
});
const outAnswer = (ext, leg, extra = {}) => ({
  event: 'answered',
  extension: ext,
  extensionType: 'extension',
  direction: 'outbound',
  from: ext,
  to: IN,
  leg,
  ...extra,
});
const outHang = (ext, leg, outcome, durationSeconds, extra = {}) => ({
  event: 'hangup',
  extension: ext,
  direction: 'outbound',
  from: ext,
  to: IN,
  leg,
  outcome,
  durationSeconds,
  ...extra,
});

// Ids as the document prints them (its examples reuse ids across calls; so do we).
const EXPECTED = [
  [
    '230307114903_10',
    [
      ring('800', 'ivr', 0),
      ring('820', 'queue', 0),
      ring('202', 'extension', 0),
      answer('202', 1),
      hang('202', 1, 'answered', 6, { callId: '230307140234_35' }),
      rec('202', 1, { callId: '230307140234_35' }),
    ],
  ],
  [
    '230307142318_40',
    [
      ring('800', 'ivr', 0),
      ring('820', 'queue', 0),
      ring('117', 'extension', 0),
      answer('117', 1),
      answer('204', 2, { transfer: 'attended' }),
      ring('204', 'extension', 1),
      hang('117', 1, 'answered', 14, { legTransferred: true }),
      hang('204', 2, 'answered', 6),
      rec('204', 2),
      rec('117', 1),
    ],
  ],
  [
    '230307144544_42',
    [
      ring('800', 'ivr', 0),
      ring('820', 'queue', 0),
      ring('117', 'extension', 0),
      answer('117', 1),
      ring('204', 'extension', 1),
      answer('204', 2, { transfer: 'blind' }),
      hang('204', 2, 'answered', 4),
      rec('204', 2),
      rec('117', 1),
    ],
  ],
  ['230307115339_12', [ring('800', 'ivr', 0), ring('820', 'queue', 0), ring('202', 'extension', 0), hang('820', 0, 'missed', undefined)]],
  ['230307150805_46', [ring('800', 'ivr', 0), ring('117', 'extension', 0), answer('117', 1), hang('117', 1, 'answered', 4), rec('117', 1)]],
  ['230307152031_50', [ring('800', 'ivr', 0), ring('117', 'extension', 0), hang('117', 0, 'missed', undefined)]],
  [
    '230307151412_47',
    [
      ring('800', 'ivr', 0),
      ring('117', 'extension', 0),
      ring('204', 'extension', 0),
      answer('117', 1),
      hang('117', 1, 'answered', 5),
      rec('117', 1),
    ],
  ],
  [
    '230307152319_52',
    [ring('800', 'ivr', 0), ring('117', 'extension', 0), ring('204', 'extension', 0), hang('204', 0, 'missed', undefined)],
  ],
  ['230307135611_31', [dial('117', 0), outAnswer('117', 1), outHang('117', 1, 'answered', 5, { callId: '30307135611_31' }), rec('117', 1)]],
  ['230307140011_32', [dial('117', 0), outHang('117', 0, 'missed', undefined)]],
  [
    '230307154408_63',
    [dial('117', 0), outAnswer('117', 1, { to: undefined, providerCaller: 'MAKECALL' }), outHang('117', 1, 'answered', 4), rec('117', 1)],
  ],
  ['230307155208_64', [dial('117', 0), outHang('117', 0, 'missed', undefined, { callId: '230307155409_66' })]],
];

const G_IN = '420774852629';
const DID = 'DID-420222000320';
const gring = (ext, type) => ({
  event: 'ringing',
  extension: ext,
  extensionType: type,
  direction: 'inbound',
  from: G_IN,
  to: DID,
  did: DID,
  leg: 0,
});
const EXPECTED_GET = [
  [
    '230102104542_15',
    [
      gring('800', 'ivr'),
      gring('804', 'queue'),
      gring('102', 'extension'),
      {
        event: 'answered',
        providerEvent: 'hangupincoming',
        extension: '102',
        extensionType: 'extension',
        direction: 'inbound',
        from: G_IN,
        to: DID,
        did: DID,
        leg: 1,
      },
      {
        event: 'hangup',
        extension: '102',
        direction: 'inbound',
        from: G_IN,
        to: DID,
        did: DID,
        outcome: 'answered',
        durationSeconds: 7,
        leg: 1,
      },
    ],
  ],
  [
    '230102104542_15',
    [
      gring('800', 'ivr'),
      gring('804', 'queue'),
      gring('102', 'extension'),
      {
        event: 'hangup',
        callId: '230102154720_16',
        extension: '804',
        direction: 'inbound',
        from: G_IN,
        to: DID,
        did: DID,
        outcome: 'missed',
        leg: 0,
      },
    ],
  ],
  [
    '230102184431_17',
    [
      { event: 'ringing', extension: '102', extensionType: 'extension', direction: 'outbound', from: '102', to: G_IN, leg: 0 },
      {
        event: 'answered',
        providerEvent: 'hangupoutgoing',
        callId: '230102185935_18',
        extension: '102',
        extensionType: 'extension',
        direction: 'outbound',
        from: '102',
        to: G_IN,
        leg: 1,
      },
      {
        event: 'hangup',
        callId: '230102185935_18',
        extension: '102',
        direction: 'outbound',
        from: '102',
        to: G_IN,
        outcome: 'answered',
        durationSeconds: 6,
        leg: 1,
      },
      {
        event: 'recording',
        callId: '230102185935_18',
        direction: 'unknown',
        leg: 1,
        recording: true,
        bareUrl: 'https://3CXDQDN:5001/webapi/recording/230102185935_18-1-1.mp3',
      },
    ],
  ],
  [
    '230102184431_17',
    [
      { event: 'ringing', extension: '102', extensionType: 'extension', direction: 'outbound', from: '102', to: G_IN, leg: 0 },
      { event: 'hangup', extension: '102', direction: 'outbound', from: '102', to: G_IN, outcome: 'missed', leg: 0 },
    ],
  ],
];

describe('3cx-webapi webhook normalizer, driven by the vendor document', () => {
  const scenarios = threeCxScenarios();

  it('finds the 12 POST-scheme and 4 GET-scheme scenario tables', () => {
    assert.equal(scenarios.filter((s) => s.scheme === 'post').length, 12);
    assert.equal(scenarios.filter((s) => s.scheme === 'get').length, 4);
  });

  const table = [...EXPECTED.map((e) => ['post', ...e]), ...EXPECTED_GET.map((e) => ['get', ...e])];
  table.forEach(([scheme, callId, rows], i) => {
    it(`${scheme.toUpperCase()} #${i + 1}: every row maps as documented`, () => {
      const scenario = scenarios[i];
      assert.equal(scenario.scheme, scheme);
      assert.equal(scenario.rows.length, rows.length, scenario.title);
      scenario.rows.forEach((row, r) => {
        const want = rows[r];
        const events = normalize3cxWebhook(inputOf(scheme, row.payload));
        assert.equal(events.length, 1, `${scenario.title} / ${row.label}`);
        const got = events[0];
        const where = `${scenario.title} / ${row.label}`;
        const wantCallId = want.callId ?? callId;
        assert.equal(got.provider, '3cx-webapi');
        assert.equal(got.event, want.event, where);
        assert.equal(got.callId, wantCallId, where);
        assert.equal(got.legId, `${wantCallId}-${want.leg}`, where);
        assert.equal(got.direction, want.direction, where);
        assert.equal(got.extension, want.extension, where);
        assert.equal(got.extensionType, want.extensionType, where);
        if (want.event !== 'recording') {
          assert.equal(got.from, want.from, where);
          assert.equal(got.to, want.to, where);
        }
        assert.equal(got.did, want.did, where);
        assert.equal(got.outcome, want.outcome, where);
        assert.equal(got.durationSeconds, want.durationSeconds, where);
        assert.equal(got.transfer, want.transfer, where);
        assert.equal(got.legTransferred, want.legTransferred, where);
        assert.equal(got.timestamp, AT.toISOString());
        if (want.providerEvent) assert.equal(got.providerEvent, want.providerEvent, where);
        if (want.recording) {
          const url = want.bareUrl ?? `https://FQDN:5001/webapi/recording/${wantCallId}-${want.leg}-1.mp3`;
          assert.deepEqual(got.recordingUrls, [url], where);
        } else {
          assert.equal(got.recordingUrls, undefined, where);
        }
      });
    });
  });

  it('builds the documented call summary of the attended transfer', () => {
    const tracker = new CallTracker();
    const out = scenarios[1].rows.map((row) => tracker.apply(normalize3cxWebhook(inputOf('post', row.payload))[0]));
    const firstHangup = out[6];
    assert.equal(firstHangup.transfer, 'attended', 'the Transfer=True hangup names the transfer kind');
    assert.equal('legTransferred' in firstHangup, false);
    const last = out[out.length - 1];
    assert.equal(last.event, 'recording');
    assert.deepEqual(
      last.call.route.map((h) => `${h.event}:${h.extension}:${h.extensionType}`),
      [
        'ringing:800:ivr',
        'ringing:820:queue',
        'ringing:117:extension',
        'answered:117:extension',
        'transfer:204:extension',
        'answered:204:extension',
        'ringing:204:extension',
      ],
    );
    assert.equal(last.call.outcome, 'answered');
    assert.equal(last.call.answeredBy, '204');
    assert.equal(last.call.transfers, 1);
    assert.equal(last.call.durationSeconds, 20, 'talk time of both legs: 00:14 + 00:06');
    assert.equal(last.direction, 'inbound', 'recording takes the direction of its call');
  });

  it('a recording of an outgoing call names the parties as the call did: from the extension, to the dialed number', () => {
    // The POST recording row says Callerid 05551239988 and User 117 with no direction; the GET
    // scheme sends nothing but the URL. Both take the call's own parties.
    for (const [i, from, to] of [
      [8, '117', '05551239988'],
      [10, '117', '05551239988'],
      [14, '102', '420774852629'],
    ]) {
      const scenario = scenarios[i];
      const tracker = new CallTracker();
      const out = scenario.rows.map((row) => tracker.apply(normalize3cxWebhook(inputOf(scenario.scheme, row.payload))[0]));
      const recording = out[out.length - 1];
      assert.equal(recording.event, 'recording', scenario.title);
      assert.equal(recording.direction, 'outbound', scenario.title);
      assert.equal(recording.from, from, scenario.title);
      assert.equal(recording.to, to, scenario.title);
      const hangup = out.find((e) => e.event === 'hangup');
      assert.deepEqual([hangup.from, hangup.to], [from, to], `${scenario.title}: as its hangup`);
    }
  });

  it('a recording of an incoming call keeps the caller as from', () => {
    const tracker = new CallTracker();
    const out = scenarios[0].rows.map((row) => tracker.apply(normalize3cxWebhook(inputOf('post', row.payload))[0]));
    // (The document's example gives its hangup and recording another call id than its ringing.)
    const [hangup, recording] = out.slice(-2);
    assert.equal(recording.event, 'recording');
    assert.equal(hangup.event, 'hangup');
    assert.equal(recording.from, '05551239988');
    assert.equal(recording.direction, 'inbound');
    assert.equal(recording.to, hangup.to);
  });

  it('resolves the queue of a missed call from the route', () => {
    const tracker = new CallTracker();
    const out = scenarios[3].rows.map((row) => tracker.apply(normalize3cxWebhook(inputOf('post', row.payload))[0]));
    const hangup = out[3];
    assert.equal(hangup.extensionType, 'queue');
    assert.equal(hangup.outcome, 'missed');
    assert.equal(hangup.call.outcome, 'missed');
    assert.equal(hangup.call.answeredAt, undefined);
    assert.deepEqual(
      hangup.call.route.map((h) => h.extension),
      ['800', '820', '202'],
    );
  });

  it('ignores unknown event names and rejects payloads without Event or Id', () => {
    assert.deepEqual(normalize3cxWebhook(inputOf('post', '{"Event":"parked","Id":"1_1-0"}')), []);
    assert.throws(() => normalize3cxWebhook(inputOf('post', '{"User":"100"}')), /without an Event/);
    assert.throws(() => normalize3cxWebhook(inputOf('post', '{"Event":"ringing","User":"100"}')), /without a call Id/);
    assert.throws(
      () => normalize3cxWebhook(inputOf('post', '{"Event":"ringing","Id":"-1"}')),
      /without a call Id/,
      'a leg suffix alone names no call',
    );
  });

  it('a Duration that is no talk time (hundreds of digits, over 31 days) gives no durationSeconds', () => {
    const hangup = (duration) =>
      normalize3cxWebhook(inputOf('post', JSON.stringify({ Event: 'Incoming', Id: '1_1-1', Finishtype: 'Ok', Duration: duration })))[0];
    assert.equal(hangup(`${'9'.repeat(400)}:00`).durationSeconds, undefined);
    assert.equal(hangup('745:00:00').durationSeconds, undefined);
    assert.equal(hangup('01:05').durationSeconds, 65);
  });

  it('reads field names case-insensitively', () => {
    const [e] = normalize3cxWebhook(inputOf('post', '{"EVENT":"RINGING","callerID":"555","USER":"100","usertype":"EXT","id":"9_9-0"}'));
    assert.equal(e.event, 'ringing');
    assert.equal(e.extension, '100');
    assert.equal(e.extensionType, 'extension');
    assert.equal(e.callId, '9_9');
  });
});

describe('3cx-webapi simulator scenarios match the vendor document', () => {
  const scenarios = threeCxScenarios();
  const post = scenarios.filter((s) => s.scheme === 'post');
  const names = Object.keys(THREE_CX_SCENARIOS);

  post.forEach((doc, i) => {
    it(`${names[i]} replays "${doc.title}" step by step`, () => {
      const steps = THREE_CX_SCENARIOS[names[i]].steps;
      const fromDoc = doc.rows.map((row) => {
        const p = parseWebhookBody(row.payload, 'application/json').body;
        return [p.Event, p.User, p.Usertype, p.Trtype, p.Finishtype, p.Transfer, p.Duration, Number(String(p.Id).split('-').pop())];
      });
      const fromSim = steps.map((s) => [s.Event, s.User, s.Usertype, s.Trtype, s.Finishtype, s.Transfer, s.Duration, s.leg]);
      assert.deepEqual(fromSim, fromDoc);
    });
  });

  it('uses the GET scheme event names of the document', () => {
    const get = scenarios.filter((s) => s.scheme === 'get');
    const docEvents = new Set(get.flatMap((s) => s.rows.map((r) => parseForm(r.payload).event).filter(Boolean)));
    for (const name of Object.values(GET_SCHEME_EVENT)) assert.ok(docEvents.has(name), name);
  });
});

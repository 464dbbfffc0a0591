'use strict';
// The Creomate edition of the 3CX WebAPI webhooks: every example payload its public pages show
// (transcribed in test/fixtures/vendor-pages/3cx-creomate-webhooks.json), normalized and checked field
// by field, then played through the call tracker as the calls they belong to.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { normalize3cxWebhook } = require('../../dist/providers/3cx-webapi/webhook');
const { parseWebhookBody } = require('../../dist/core/webhook-router');
const { CallTracker } = require('../../dist/core/call-tracker');

const FIXTURE = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../fixtures/vendor-pages/3cx-creomate-webhooks.json'), 'utf8'));
const AT = new Date('2025-09-17T16:17:28.000Z');
const byLabel = (label) => {
  const found = FIXTURE.examples.find((e) => e.label === label);
  assert.ok(found, label);
  return found;
};

/** The WebhookInput the router hands over for a JSON POST of `payload`. */
function inputOf(payload) {
  const parsed = parseWebhookBody(JSON.stringify(payload), 'application/json');
  assert.ok(parsed.ok);
  return { method: 'POST', query: Object.create(null), rawQuery: '', body: parsed.body, receivedAt: AT };
}
const normalize = (label) => normalize3cxWebhook(inputOf(byLabel(label).payload));

const CHID_41 = '00000000-01dc-27dd-cc8a-799100000029';
const CHID_45 = '00000000-01dc-27f5-3c43-81de0000002d';
const CHID_46 = '00000000-01dc-27fa-d1eb-64b00000002e';
const CHID_47 = '00000000-01dc-27fc-0bdb-88fd0000002f';
const CUSTOMER = '381629759787';
const OUR_DID = '381213220030';
const base = { provider: '3cx-webapi', timestamp: AT.toISOString() };

/** Label → the events it must give, exactly (deepEqual: nothing more, nothing less). */
const EXPECTED = [
  [
    'ringing: the call reaches IVR 809',
    [
      {
        ...base,
        event: 'ringing',
        providerEvent: 'ringing',
        callId: CHID_41,
        legId: '250917161728_41-0',
        direction: 'inbound',
        extension: '809',
        extensionType: 'ivr',
        did: OUR_DID,
        from: CUSTOMER,
        to: OUR_DID,
      },
    ],
  ],
  [
    'incoming: missed in the IVR',
    [
      {
        ...base,
        event: 'hangup',
        providerEvent: 'incoming',
        callId: CHID_41,
        legId: '250917161728_41-0',
        direction: 'inbound',
        extension: '809',
        did: OUR_DID,
        from: CUSTOMER,
        to: OUR_DID,
        outcome: 'missed',
        hangupCause: 'by_did',
      },
    ],
  ],
  [
    'pickupincoming: extension 105 answers',
    [
      {
        ...base,
        event: 'answered',
        providerEvent: 'pickupincoming',
        callId: CHID_45,
        legId: '250917190514_45-1',
        direction: 'inbound',
        extension: '105',
        extensionType: 'extension',
        did: OUR_DID,
        from: CUSTOMER,
        to: OUR_DID,
      },
    ],
  ],
  [
    'outgoing: the placed call is declined',
    [
      {
        ...base,
        event: 'hangup',
        providerEvent: 'outgoing',
        callId: CHID_46,
        legId: '250917194513_46-0',
        direction: 'outbound',
        extension: '105',
        did: OUR_DID,
        from: '105',
        to: CUSTOMER,
        outcome: 'missed',
        hangupCause: 'declined',
      },
    ],
  ],
  [
    'pickupoutgoing: the called party answers',
    [
      {
        ...base,
        event: 'answered',
        providerEvent: 'pickupoutgoing',
        callId: CHID_47,
        legId: '250917195359_47-1',
        direction: 'outbound',
        extension: '105',
        extensionType: 'extension',
        from: '105',
        to: CUSTOMER,
      },
    ],
  ],
  [
    'outgoing with FILES: the call ended, with its recording',
    [
      {
        ...base,
        event: 'hangup',
        providerEvent: 'outgoing',
        callId: CHID_47,
        legId: '250917195359_47-1',
        direction: 'outbound',
        extension: '105',
        from: '105',
        to: CUSTOMER,
        outcome: 'answered',
        durationSeconds: 5,
        unlessEnded: true,
      },
      {
        ...base,
        event: 'recording',
        providerEvent: 'outgoing',
        callId: CHID_47,
        legId: '250917195359_47-1',
        direction: 'outbound',
        extension: '105',
        from: '105',
        to: CUSTOMER,
        recordingUrls: ['https://api.3cx.eu/webapi/recording/250917195359_47-1-1.mp3'],
      },
    ],
  ],
];

describe('3cx-webapi webhooks, Creomate edition: the vendor examples', () => {
  for (const [label, want] of EXPECTED) {
    it(label, () => assert.deepEqual(normalize(label), want));
  }

  it('the makecall answer names the call chain the webhooks of that call carry', () => {
    const makecall = byLabel('makecall request and answer');
    const declined = normalize('outgoing: the placed call is declined');
    assert.equal(declined[0].callId, makecall.response.chid);
  });

  it('without chid (2024 edition) one call keeps one id; the recording ends it once, with its URL', () => {
    const labels = FIXTURE.examples.filter((e) => e.label.startsWith('2024 edition')).map((e) => e.label);
    assert.equal(labels.length, 6);
    const tracker = new CallTracker();
    const emitted = labels
      .flatMap((l) => normalize(l))
      .map((e) => tracker.apply(e))
      .filter(Boolean);
    assert.deepEqual(
      emitted.map((e) => [e.event, e.callId, e.extension]),
      [
        ['ringing', '230115121143_9', '800'],
        ['ringing', '230115121143_9', '804'],
        ['ringing', '230115121143_9', '102'],
        ['answered', '230115121143_9', '102'],
        ['hangup', '230115121143_9', '102'],
        ['recording', '230115121143_9', '102'],
      ],
    );
    const [hangup, recording] = emitted.slice(4);
    assert.equal(hangup.outcome, 'answered');
    assert.equal(hangup.durationSeconds, 7);
    assert.equal(hangup.did, 'DID-420222000320');
    assert.equal(hangup.to, 'DID-420222000320');
    assert.deepEqual(recording.recordingUrls, ['https://{3CXFQDN:PORT}/webapi/recording/230115121143_9-1-1.mp3']);
    assert.equal(recording.call.outcome, 'answered');
    assert.equal(recording.call.durationSeconds, 7);
    for (const e of emitted) assert.equal('unlessEnded' in e, false);
  });

  it('a recording on the only call-end event gives the hangup first, then the recording', () => {
    const tracker = new CallTracker();
    const events = ['pickupoutgoing: the called party answers', 'outgoing with FILES: the call ended, with its recording']
      .flatMap((l) => normalize(l))
      .map((e) => tracker.apply(e));
    assert.deepEqual(
      events.map((e) => e.event),
      ['answered', 'hangup', 'recording'],
    );
    assert.equal(events[1].call.outcome, 'answered');
    assert.equal(events[1].call.durationSeconds, 5);
    assert.equal(events[2].call.endedAt, AT.toISOString());
  });

  it('reads Trtype Accomp as an attended transfer, and Files in any letter case', () => {
    const pickup = { ...byLabel('pickupincoming: extension 105 answers').payload, trtype: 'Accomp' };
    assert.equal(normalize3cxWebhook(inputOf(pickup))[0].transfer, 'attended');
    const { FILES, ...end } = byLabel('outgoing with FILES: the call ended, with its recording').payload;
    const events = normalize3cxWebhook(inputOf({ ...end, Files: FILES }));
    assert.deepEqual(events[1].recordingUrls, FILES);
  });

  it('takes only text as a recording URL: an object without prototype in FILES is skipped, not a crash', () => {
    const { FILES: _files, ...end } = byLabel('outgoing with FILES: the call ended, with its recording').payload;
    const body = Object.assign(Object.create(null), end, { FILES: [Object.create(null), 'https://pbx.test/r/1_2-1-1.mp3'] });
    const events = normalize3cxWebhook({ method: 'POST', query: Object.create(null), rawQuery: '', body, receivedAt: AT });
    assert.deepEqual(events[1].recordingUrls, ['https://pbx.test/r/1_2-1-1.mp3']);
  });

  it('keeps a DID rule name where no number is sent, and ignores an inbound_did that is no number', () => {
    const ring = { ...byLabel('ringing: the call reaches IVR 809').payload, inbound_did: 'unknown' };
    const [event] = normalize3cxWebhook(inputOf(ring));
    assert.equal(event.did, 'DID Serbia 021 3220 030');
    assert.equal(event.to, 'DID Serbia 021 3220 030');
  });
});

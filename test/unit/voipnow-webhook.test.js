'use strict';
// VoipNow Call Events: every event type by GET query and by POST form, with the type in
// `?event=` and without it (inferred from CallStatus), each normalized field asserted.
const assert = require('node:assert/strict');
const { normalizeVoipNowWebhook } = require('../../dist/providers/voipnow/webhook');
const { WebhookPayloadError } = require('../../dist/core/provider');
const { parseForm, parseWebhookBody } = require('../../dist/core/webhook-router');

const AT = new Date('2026-03-07T11:49:03.000Z');
const TS = AT.toISOString();

/** The WebhookInput the router hands over for a GET (query) or POST (form body) delivery. */
function input(scheme, fields, event) {
  const form = new URLSearchParams(fields).toString();
  const eventQuery = event === undefined ? '' : `event=${encodeURIComponent(event)}`;
  if (scheme === 'get') {
    const rawQuery = [eventQuery, form].filter(Boolean).join('&');
    return { method: 'GET', query: parseForm(rawQuery), rawQuery, body: undefined, receivedAt: AT };
  }
  const parsed = parseWebhookBody(form, 'application/x-www-form-urlencoded');
  assert.ok(parsed.ok);
  return { method: 'POST', query: parseForm(eventQuery), rawQuery: eventQuery, body: parsed.body, receivedAt: AT };
}

// A call from outside to DID 0212345678, routed to extension 0003*210 (the extension's Call Events).
const INBOUND = {
  CallID: 'vn-1001',
  CallerIDNum: '0555123988',
  CallerIDName: 'Jane Caller',
  CalledDID: '0212345678',
  CalledExtension: '0003*210',
  CallerExtension: '',
  CalledNumber: '0212345678',
  CallFlow: 'IN',
};
// Extension 0003*210 dials 0555987654.
const OUTBOUND = {
  CallID: 'vn-2002',
  CallerIDNum: '0003*210',
  CallerIDName: 'Agent 210',
  CalledDID: '',
  CalledExtension: '',
  CallerExtension: '0003*210',
  CalledNumber: '0555987654',
  CallFlow: 'OUT',
};

const inbound = (extra) => ({
  provider: 'voipnow',
  callId: 'vn-1001',
  direction: 'inbound',
  extension: '0003*210',
  extensionType: 'extension',
  from: '0555123988',
  to: '0212345678',
  did: '0212345678',
  timestamp: TS,
  ...extra,
});
const outbound = (extra) => ({
  provider: 'voipnow',
  callId: 'vn-2002',
  direction: 'outbound',
  extension: '0003*210',
  extensionType: 'extension',
  from: '0003*210',
  to: '0555987654',
  timestamp: TS,
  ...extra,
});

// type, fields, CallStatus, expected with ?event=, expected without it (inferred).
const CASES = [
  [
    'dial-in',
    INBOUND,
    'CALLING',
    inbound({ event: 'ringing', providerEvent: 'dial-in' }),
    inbound({ event: 'ringing', providerEvent: 'inferred:CALLING' }),
  ],
  [
    'answer-incoming',
    INBOUND,
    'ANSWER',
    inbound({ event: 'answered', providerEvent: 'answer-incoming' }),
    // Without its ?event=, an answer reads like a hangup of an answered call: the reason every
    // callback URL carries its type.
    inbound({ event: 'hangup', providerEvent: 'inferred:ANSWER', outcome: 'answered' }),
  ],
  [
    'hangup',
    INBOUND,
    'ANSWER',
    inbound({ event: 'hangup', providerEvent: 'hangup', outcome: 'answered' }),
    inbound({ event: 'hangup', providerEvent: 'inferred:ANSWER', outcome: 'answered' }),
  ],
  [
    'hangup',
    INBOUND,
    'UNKNOWN',
    inbound({ event: 'hangup', providerEvent: 'hangup', outcome: 'missed' }),
    inbound({ event: 'hangup', providerEvent: 'inferred:UNKNOWN', outcome: 'missed' }),
  ],
  [
    'dial-out',
    OUTBOUND,
    'CALLING',
    outbound({ event: 'ringing', providerEvent: 'dial-out' }),
    outbound({ event: 'ringing', providerEvent: 'inferred:CALLING' }),
  ],
  [
    'answer-outgoing',
    OUTBOUND,
    'ANSWER',
    outbound({ event: 'answered', providerEvent: 'answer-outgoing' }),
    outbound({ event: 'hangup', providerEvent: 'inferred:ANSWER', outcome: 'answered' }),
  ],
  [
    'hangup',
    OUTBOUND,
    'ANSWER',
    outbound({ event: 'hangup', providerEvent: 'hangup', outcome: 'answered' }),
    outbound({ event: 'hangup', providerEvent: 'inferred:ANSWER', outcome: 'answered' }),
  ],
  [
    'hangup',
    OUTBOUND,
    'UNKNOWN',
    outbound({ event: 'hangup', providerEvent: 'hangup', outcome: 'missed' }),
    outbound({ event: 'hangup', providerEvent: 'inferred:UNKNOWN', outcome: 'missed' }),
  ],
];

describe('voipnow Call Events normalizer', () => {
  for (const scheme of ['get', 'post']) {
    for (const [type, fields, status, withEvent, inferred] of CASES) {
      const payload = { ...fields, CallStatus: status };
      it(`${scheme.toUpperCase()} ${type} (${fields.CallFlow}, ${status}) with ?event=`, () => {
        assert.deepEqual(normalizeVoipNowWebhook(input(scheme, payload, type)), [withEvent]);
      });
      it(`${scheme.toUpperCase()} ${type} (${fields.CallFlow}, ${status}) without ?event= is inferred`, () => {
        assert.deepEqual(normalizeVoipNowWebhook(input(scheme, payload)), [inferred]);
      });
    }
  }

  const VARIANTS = [
    ['Dial-In', 'dial-in', 'ringing'],
    ['DIAL_IN', 'dial-in', 'ringing'],
    ['dialin', 'dial-in', 'ringing'],
    ['Dial-Out', 'dial-out', 'ringing'],
    ['Answer incoming', 'answer-incoming', 'answered'],
    ['ANSWER-OUTGOING', 'answer-outgoing', 'answered'],
    ['answer_incoming', 'answer-incoming', 'answered'],
    ['Hangup', 'hangup', 'hangup'],
  ];
  for (const [given, canonical, event] of VARIANTS) {
    it(`accepts event=${given} as ${canonical}`, () => {
      const [e] = normalizeVoipNowWebhook(input('get', { ...INBOUND, CallStatus: 'CALLING' }, given));
      assert.equal(e.providerEvent, canonical);
      assert.equal(e.event, event);
      assert.equal(e.direction, canonical.endsWith('out') || canonical.endsWith('outgoing') ? 'outbound' : 'inbound');
    });
  }

  it('reads field names in any case', () => {
    const lower = Object.fromEntries(Object.entries({ ...OUTBOUND, CallStatus: 'CALLING' }).map(([k, v]) => [k.toLowerCase(), v]));
    assert.deepEqual(normalizeVoipNowWebhook(input('post', lower, 'dial-out')), [
      outbound({ event: 'ringing', providerEvent: 'dial-out' }),
    ]);
    const upper = Object.fromEntries(Object.entries({ ...OUTBOUND, CallStatus: 'calling' }).map(([k, v]) => [k.toUpperCase(), v]));
    assert.deepEqual(normalizeVoipNowWebhook(input('get', upper)), [outbound({ event: 'ringing', providerEvent: 'inferred:CALLING' })]);
  });

  it('calls between two extensions without a DID are internal; the side picks the extension', () => {
    const internal = { ...OUTBOUND, CalledExtension: '0003*211', CalledNumber: '0003*211', CallStatus: 'CALLING' };
    const [out] = normalizeVoipNowWebhook(input('get', internal, 'dial-out'));
    assert.equal(out.direction, 'internal');
    assert.equal(out.extension, '0003*210');
    const [inn] = normalizeVoipNowWebhook(input('get', { ...internal, CallFlow: 'IN' }, 'dial-in'));
    assert.equal(inn.direction, 'internal');
    assert.equal(inn.extension, '0003*211');
    assert.equal(inn.to, '0003*211');
    const [hang] = normalizeVoipNowWebhook(input('post', { ...internal, CallStatus: 'ANSWER' }, 'hangup'));
    assert.deepEqual([hang.direction, hang.extension, hang.outcome], ['internal', '0003*210', 'answered']);
    const [flow] = normalizeVoipNowWebhook(input('get', { ...INBOUND, CallFlow: 'INTERNAL', CallStatus: 'CALLING' }));
    assert.equal(flow.direction, 'internal');
  });

  it('without ?event= or CallFlow the direction is unknown', () => {
    const [e] = normalizeVoipNowWebhook(input('get', { CallID: 'x1', CallStatus: 'UNKNOWN', CalledExtension: '0003*210' }));
    assert.deepEqual(e, {
      event: 'hangup',
      provider: 'voipnow',
      providerEvent: 'inferred:UNKNOWN',
      callId: 'x1',
      direction: 'unknown',
      extension: '0003*210',
      extensionType: 'extension',
      outcome: 'missed',
      timestamp: TS,
    });
  });

  it('ignores event types it does not map and statuses it cannot infer', () => {
    assert.deepEqual(normalizeVoipNowWebhook(input('get', { ...INBOUND, CallStatus: 'CALLING' }, 'transfer')), []);
    assert.deepEqual(normalizeVoipNowWebhook(input('get', { ...INBOUND, CallStatus: 'ON HOLD' })), []);
    assert.deepEqual(normalizeVoipNowWebhook(input('get', { ...INBOUND })), []);
  });

  it('rejects a Call Event without CallID', () => {
    const { CallID: _drop, ...noId } = INBOUND;
    assert.throws(() => normalizeVoipNowWebhook(input('get', { ...noId, CallStatus: 'CALLING' }, 'dial-in')), WebhookPayloadError);
    assert.throws(() => normalizeVoipNowWebhook(input('post', { ...noId, CallStatus: 'ANSWER' })), WebhookPayloadError);
    assert.throws(() => normalizeVoipNowWebhook(input('get', {})), /without a CallID/);
  });
});

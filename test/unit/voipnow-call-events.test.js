'use strict';
// VoipNow Call Events as real senders deliver them: the type in the payload (`EventType`), every
// documented hangup `CallStatus`, requests that are not call state, extended extension numbers
// and a `Duration`. The table is the committed transcription of the vendor's documents
// (test/fixtures/vendor-pages/voipnow-call-events.json).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { normalizeVoipNowWebhook } = require('../../dist/providers/voipnow/webhook');
const { extensionNumber } = require('../../dist/providers/voipnow/extension');
const { presenceOf } = require('../../dist/providers/voipnow/presence');
const { parseForm, parseWebhookBody } = require('../../dist/core/webhook-router');
const { EVENT_LIMITS } = require('../../dist/core/event-limits');

const FIXTURE = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../fixtures/vendor-pages/voipnow-call-events.json'), 'utf8'));
const AT = new Date('2026-03-07T11:49:03.000Z');
const TS = AT.toISOString();

/** The WebhookInput the router hands over: the fields in the query (GET) or a form body (POST). */
function input(via, fields, query = {}) {
  const form = new URLSearchParams(fields).toString();
  const extraQuery = new URLSearchParams(query).toString();
  if (via === 'query') {
    const rawQuery = [extraQuery, form].filter(Boolean).join('&');
    return { method: 'GET', query: parseForm(rawQuery), rawQuery, body: undefined, receivedAt: AT };
  }
  const parsed = parseWebhookBody(form, 'application/x-www-form-urlencoded');
  assert.ok(parsed.ok);
  return { method: 'POST', query: parseForm(extraQuery), rawQuery: extraQuery, body: parsed.body, receivedAt: AT };
}

const hangupOf = (fields, query) => normalizeVoipNowWebhook(input('form', { CallID: 'd1', CallFlow: 'IN', ...fields }, query))[0];

describe('voipnow Call Events from real senders (vendor table)', () => {
  it('the table cites a document for every case and covers every documented hangup status', () => {
    for (const c of FIXTURE.cases) for (const s of c.sources) assert.ok(FIXTURE.documents[s], `${c.name}: ${s}`);
    const inferred = FIXTURE.cases.filter((c) => !c.fields.EventType && !c.query).map((c) => c.fields.CallStatus);
    for (const status of FIXTURE.callStatus.hangup.filter((s) => s !== 'ANSWER' && s !== 'UNKNOWN'))
      assert.ok(inferred.includes(status), status);
  });

  for (const c of FIXTURE.cases) {
    it(c.name, () => {
      const expected = c.expected.map((e) => ({ ...e, timestamp: TS }));
      assert.deepEqual(normalizeVoipNowWebhook(input(c.via, c.fields, c.query)), expected);
    });
  }
});

describe('voipnow Call Event type, outcome and duration', () => {
  const TYPES = [
    ['dial-in', 'ringing', 'dial-in'],
    ['DIAL-OUT', 'ringing', 'dial-out'],
    ['Dial Out', 'ringing', 'dial-out'],
    ['answer', 'answered', 'answer'],
    ['Answer', 'answered', 'answer'],
    ['answer-incoming', 'answered', 'answer-incoming'],
    ['Answer incoming', 'answered', 'answer-incoming'],
    ['answer_outgoing', 'answered', 'answer-outgoing'],
    ['Answer on outgoing call', 'answered', 'answer-outgoing'],
    ['HANGUP', 'hangup', 'hangup'],
    ['Hang-up', 'hangup', 'hangup'],
  ];
  for (const [given, event, providerEvent] of TYPES) {
    it(`EventType "${given}" → ${event} (${providerEvent})`, () => {
      const [e] = normalizeVoipNowWebhook(input('query', { EventType: given, CallID: 't1', CallFlow: 'OUT', CallStatus: 'ANSWER' }));
      assert.deepEqual([e.event, e.providerEvent], [event, providerEvent]);
    });
  }

  it('an answer without a direction in its type takes it from CallFlow', () => {
    const fields = { EventType: 'answer', CallID: 'a1', CallerExtension: '3515*101', CalledExtension: '3515*102', CalledDID: '0212345678' };
    const [inbound] = normalizeVoipNowWebhook(input('query', { ...fields, CallFlow: 'IN' }));
    assert.deepEqual([inbound.direction, inbound.extension], ['inbound', '3515*102']);
    const [outbound] = normalizeVoipNowWebhook(input('query', { ...fields, CallFlow: 'out' }));
    assert.deepEqual([outbound.direction, outbound.extension], ['outbound', '3515*101']);
    const [unknown] = normalizeVoipNowWebhook(input('query', { ...fields, CallFlow: '' }));
    assert.equal(unknown.direction, 'unknown');
  });

  it('?event= is read before EventType, both before any inference', () => {
    const fields = { EventType: 'hangup', CallID: 'p1', CallFlow: 'IN', CallStatus: 'ANSWER' };
    assert.equal(normalizeVoipNowWebhook(input('form', fields, { event: 'answer-incoming' }))[0].event, 'answered');
    assert.equal(normalizeVoipNowWebhook(input('form', { ...fields, EventType: 'answer' }))[0].event, 'answered');
  });

  const OUTCOMES = [
    ['ANSWER', 'answered'],
    ['BUSY', 'busy'],
    ['NOANSWER', 'missed'],
    ['CANCEL', 'missed'],
    ['CONGESTION', 'failed'],
    ['CHANUNAVAIL', 'failed'],
    ['UNKNOWN', 'missed'],
    ['busy', 'busy'],
    ['No Answer', 'missed'],
    ['DONTCALL', 'failed'],
    ['INVALIDARGS', 'failed'],
  ];
  for (const [status, outcome] of OUTCOMES) {
    it(`hangup with CallStatus ${status} → ${outcome}, by ?event=, EventType and inferred alike`, () => {
      assert.equal(hangupOf({ CallStatus: status }, { event: 'hangup' }).outcome, outcome);
      assert.equal(hangupOf({ CallStatus: status, EventType: 'Hangup' }).outcome, outcome);
      if (status !== 'DONTCALL' && status !== 'INVALIDARGS') assert.equal(hangupOf({ CallStatus: status }).outcome, outcome);
    });
  }

  it('a hangup without CallStatus is missed, as before', () => {
    assert.equal(hangupOf({}, { event: 'hangup' }).outcome, 'missed');
  });

  it('statuses nobody documents are not inferred as hangups', () => {
    for (const status of ['DONTCALL', 'ON HOLD', 'RINGING', 'answered'])
      assert.deepEqual(normalizeVoipNowWebhook(input('query', { CallID: 'n1', CallStatus: status })), []);
  });

  it('types that are not call state are ignored, whatever their CallStatus', () => {
    for (const type of [
      'call_interactive',
      'Call Interactive',
      'message-in',
      'message-out',
      'voicemail',
      'transfer',
      'constructor',
      '__proto__',
    ]) {
      for (const status of ['ANSWER', 'CALLING', 'BUSY']) {
        assert.deepEqual(
          normalizeVoipNowWebhook(input('query', { EventType: type, CallID: 'x1', CallFlow: 'IN', CallStatus: status })),
          [],
          `${type} ${status}`,
        );
      }
    }
  });

  const DURATIONS = [
    ['42', 42],
    ['0', 0],
    ['7.5', 7.5],
    ['01:05', 65],
    ['1:02:03', 3723],
    [' 90 ', 90],
    ['-5', undefined],
    ['abc', undefined],
    ['1e3', undefined],
    ['Infinity', undefined],
    [String(EVENT_LIMITS.durationSeconds + 1), undefined],
    [String(EVENT_LIMITS.durationSeconds), EVENT_LIMITS.durationSeconds],
    ['9'.repeat(400), undefined],
  ];
  for (const [given, seconds] of DURATIONS) {
    it(`Duration "${given.length > 20 ? `${given.slice(0, 8)}…` : given}" → ${seconds}`, () => {
      assert.equal(hangupOf({ CallStatus: 'ANSWER', Duration: given }, { event: 'hangup' }).durationSeconds, seconds);
    });
  }

  it('Duration is only read on a hangup', () => {
    const [e] = normalizeVoipNowWebhook(
      input('query', { EventType: 'answer', CallID: 'd2', CallFlow: 'IN', CallStatus: 'ANSWER', Duration: '12' }),
    );
    assert.equal(e.durationSeconds, undefined);
  });
});

describe('voipnow extension numbers', () => {
  const FORMS = [
    ['3515*101', '3515*101'],
    ['3515*101@pbx.example.com', '3515*101'],
    [' 3515*101@10.0.0.5:5060 ', '3515*101'],
    ['sip:3515*101@pbx.example.com', '3515*101'],
    ['SIPS:3515*101@pbx.example.com;transport=tls', '3515*101'],
    ['<sip:3515*101@pbx.example.com>', '3515*101'],
    ['3515*101;user=phone', '3515*101'],
    ['101', '101'],
    ['0003*210', '0003*210'],
    ['', undefined],
    ['@pbx.example.com', undefined],
    ['sip:', undefined],
  ];
  for (const [given, normalized] of FORMS) {
    it(`"${given}" → ${normalized}`, () => {
      assert.equal(extensionNumber(given), normalized);
    });
  }

  it('is the same for one extension across events and equals what presence reports', () => {
    const forms = ['3515*101', '3515*101@pbx.example.com', 'sip:3515*101@pbx.example.com'];
    const seen = new Set();
    for (const [i, form] of forms.entries()) {
      const base = { CallID: `e${i}`, CalledDID: '0212345678' };
      seen.add(
        normalizeVoipNowWebhook(
          input('query', { ...base, EventType: 'dial-in', CallFlow: 'IN', CalledExtension: form, CallStatus: 'CALLING' }),
        )[0].extension,
      );
      seen.add(
        normalizeVoipNowWebhook(
          input('form', { ...base, EventType: 'dial-out', CallFlow: 'OUT', CallerExtension: form, CallStatus: 'CALLING' }),
        )[0].extension,
      );
      seen.add(presenceOf({ extension: form, status: 1 }).extension);
    }
    assert.deepEqual([...seen], ['3515*101']);
  });

  it('from and to keep the numbers as sent', () => {
    const [e] = normalizeVoipNowWebhook(
      input('query', {
        EventType: 'dial-out',
        CallID: 'f1',
        CallFlow: 'OUT',
        CallerExtension: '3515*101@pbx',
        CallerIDNum: '3515*101',
        CalledNumber: '+40 21 555 0100',
        CallStatus: 'CALLING',
      }),
    );
    assert.deepEqual([e.extension, e.from, e.to], ['3515*101', '3515*101', '+40 21 555 0100']);
  });
});

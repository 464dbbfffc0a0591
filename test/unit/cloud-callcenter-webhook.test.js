'use strict';
// The cloud call center's webhook normalizer: CDR callback, garbage, tolerant input, and what
// the call tracker builds from one call's callbacks.
const assert = require('node:assert/strict');
const { providerOf } = require('../../dist/providers');
const { WebhookPayloadError } = require('../../dist/core/provider');
const { CallTracker } = require('../../dist/core/call-tracker');

const definition = providerOf('cloud-callcenter');
const receivedAt = new Date('2024-05-06T07:08:09.000Z');
const post = (body) => ({ method: 'POST', query: {}, rawQuery: '', body, receivedAt });
const normalize = (body) => definition.normalizeWebhook(post(body));

const UUID = '7d1e3f0a-0b1c-11ef-9a0b-0242ac120002';
const callback = (status, extra = {}) => ({
  buuid: '7d1e4012-0b1c-11ef-9a0c-0242ac120002',
  callee: '90240001',
  caller: '13800138000',
  companycode: '9024',
  customuuid: 'crm-4711',
  direction: 'callin',
  disnumber: '2190240001',
  extnumber: '90240001',
  isbleg: 'false',
  method: '6',
  starttime: '1714979280',
  status,
  type: 'call',
  uuid: UUID,
  ...extra,
});
const cdr = (extra = {}) => ({
  uuid: UUID,
  customuuid: 'crm-4711',
  callmethod: '6',
  starttime: '1714979280',
  answertime: '1714979285',
  endtime: '1714979322',
  duration: '42',
  billsec: '37',
  hangupdirection: '1',
  hangupcause: '10001',
  disnumber: '2190240001',
  destnumber: '90240001',
  recordurl: 'https://rec.example.test/2024/05/06/7d1e3f0a.mp3',
  recordfilename: '7d1e3f0a.mp3',
  ...extra,
});

describe('cloud-callcenter webhook normalizer', () => {
  it('maps an inbound ring: caller → from, callee → to, disnumber → did', () => {
    assert.deepEqual(normalize(callback('ring')), [
      {
        event: 'ringing',
        provider: 'cloud-callcenter',
        providerEvent: 'ring',
        reference: 'crm-4711',
        callId: UUID,
        legId: '7d1e4012-0b1c-11ef-9a0c-0242ac120002',
        direction: 'inbound',
        extension: '90240001',
        extensionType: 'extension',
        from: '13800138000',
        to: '90240001',
        did: '2190240001',
        timestamp: '2024-05-06T07:08:00.000Z',
      },
    ]);
  });

  it('maps a CDR with a recording to a recording event', () => {
    assert.deepEqual(normalize(cdr()), [
      {
        event: 'recording',
        provider: 'cloud-callcenter',
        providerEvent: 'cdr',
        reference: 'crm-4711',
        callId: UUID,
        direction: 'unknown',
        recordingUrls: ['https://rec.example.test/2024/05/06/7d1e3f0a.mp3'],
        timestamp: '2024-05-06T07:08:42.000Z',
        durationSeconds: 37,
        hangupCause: '10001',
        to: '90240001',
        did: '2190240001',
      },
    ]);
  });

  it('CDR details: extension-to-extension is internal; no endtime → arrival time', () => {
    const [event] = normalize(cdr({ callmethod: '1', endtime: '' }));
    assert.equal(event.direction, 'internal');
    assert.equal(event.timestamp, receivedAt.toISOString());
  });

  it('a CDR without a recording is no event, not an error', () => {
    assert.deepEqual(normalize(cdr({ recordurl: '', recordfilename: '', billsec: '0', answertime: '0' })), []);
    const { recordurl: _r, ...withoutUrl } = cdr();
    assert.deepEqual(normalize(withoutUrl), []);
  });

  it('hangup: unknown (the tracker decides) unless the payload shows talk time', () => {
    assert.equal(normalize(callback('hangup'))[0].outcome, 'unknown');
    assert.equal(normalize(callback('hangup', { billsec: '12' }))[0].outcome, 'answered');
    assert.equal(normalize(callback('hangup', { billsec: '0' }))[0].outcome, 'missed');
    assert.equal(normalize(callback('hangup', { hangupcause: '10016' }))[0].hangupCause, '10016');
  });

  it('a CDR billsec that is no talk time (hundreds of digits) gives no durationSeconds', () => {
    assert.equal(normalize(cdr({ billsec: '9'.repeat(400) }))[0].durationSeconds, undefined);
    assert.equal(normalize(cdr({ billsec: '37' }))[0].durationSeconds, 37);
  });

  it('reads field names case-insensitively, numbers as numbers, and GET query fields', () => {
    const [upper] = normalize({ UUID, Status: 'RING', ExtNumber: 90240001, Direction: 'CallOut', Method: 3, StartTime: 1714979280 });
    assert.equal(upper.callId, UUID);
    assert.equal(upper.event, 'ringing');
    assert.equal(upper.extension, '90240001');
    assert.equal(upper.direction, 'outbound');
    assert.equal(upper.timestamp, '2024-05-06T07:08:00.000Z');
    const [fromQuery] = definition.normalizeWebhook({
      method: 'GET',
      query: callback('answer'),
      rawQuery: 'x',
      body: undefined,
      receivedAt,
    });
    assert.equal(fromQuery.event, 'answered');
  });

  for (const [what, body] of [
    ['text', 'status=ring but not a form'],
    ['no body at all', undefined],
    ['an object without uuid', { status: 'ring', extnumber: '90240001' }],
    ['an object with an empty uuid', callback('ring', { uuid: '  ' })],
    ['neither a call status nor a CDR', { uuid: UUID, hello: 'world' }],
  ]) {
    it(`rejects garbage: ${what}`, () => {
      assert.throws(() => normalize(body), WebhookPayloadError);
    });
  }
});

describe('cloud-callcenter callbacks through the call tracker', () => {
  function track(bodies) {
    const tracker = new CallTracker();
    const out = [];
    let t = 0;
    for (const body of bodies) {
      const at = new Date(Date.parse('2024-05-06T07:08:01.000Z') + 1000 * t++);
      for (const event of definition.normalizeWebhook({ ...post(body), receivedAt: at })) out.push(tracker.apply(event));
    }
    return out;
  }

  it('answered call: ring, answer, hangup, CDR → a summary with billsec and the hangup cause', () => {
    const events = track([callback('ring'), callback('answer'), callback('hangup'), cdr()]);
    assert.deepEqual(
      events.map((e) => e.event),
      ['ringing', 'answered', 'hangup', 'recording'],
    );
    const summary = events[3].call;
    assert.deepEqual(summary, {
      callId: UUID,
      startedAt: '2024-05-06T07:08:00.000Z',
      answeredAt: '2024-05-06T07:08:02.000Z',
      endedAt: '2024-05-06T07:08:03.000Z',
      outcome: 'answered',
      durationSeconds: 37,
      hangupCause: '10001',
      route: [
        { event: 'ringing', extension: '90240001', extensionType: 'extension', at: '2024-05-06T07:08:00.000Z' },
        { event: 'answered', extension: '90240001', extensionType: 'extension', at: '2024-05-06T07:08:02.000Z' },
      ],
      answeredBy: '90240001',
      transfers: 0,
    });
    assert.equal(events[2].call.outcome, 'answered', 'the hangup summary knows the call was answered');
    assert.equal(events[3].direction, 'inbound', 'the recording takes the direction the call had');
  });

  it('missed call: ring, hangup, CDR without recording → outcome missed, no recording event', () => {
    const events = track([callback('ring'), callback('hangup'), cdr({ recordurl: '', billsec: '0', hangupcause: '10016' })]);
    assert.deepEqual(
      events.map((e) => e.event),
      ['ringing', 'hangup'],
    );
    assert.equal(events[1].outcome, 'missed');
    assert.equal(events[1].call.outcome, 'missed');
  });
});

'use strict';
// The cloud call center's CDR callbacks as real accounts send them (issue 12): the older format
// (no recordurl: downloadip + recordfilename) and the newer one, as the vendor's pages print them
// (members without commas between lines), from the hand transcription in
// test/fixtures/vendor-pages/cloud-callcenter-cdr-callbacks.json.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { providerOf } = require('../../dist/providers');
const { parseWebhookBody } = require('../../dist/core/webhook-router');
const { CallTracker } = require('../../dist/core/call-tracker');
const { recordingUrlFromDownloadIp, cdrRecordingUrl } = require('../../dist/providers/cloud-callcenter/recording-url');

const FIXTURE = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '../fixtures/vendor-pages/cloud-callcenter-cdr-callbacks.json'), 'utf8'),
);
const definition = providerOf('cloud-callcenter');
const receivedAt = new Date('2025-10-16T01:22:30.000Z');
const normalizeText = (raw) => {
  const parsed = parseWebhookBody(raw, 'application/json');
  assert.equal(parsed.ok, true, 'the body parses (repaired)');
  return definition.normalizeWebhook({ method: 'POST', query: {}, rawQuery: '', body: parsed.body, receivedAt });
};

describe('cloud-callcenter CDR callbacks, older and newer (vendor page examples)', () => {
  it('the fixture holds the documented cases, each with its page', () => {
    assert.equal(FIXTURE.cases.length, 5);
    for (const c of FIXTURE.cases) assert.match(c.source, /^https:\/\/document\.infin8linx\.com\/books\//, c.name);
  });

  for (const c of FIXTURE.cases) {
    it(c.name, () => {
      assert.throws(() => JSON.parse(c.body), SyntaxError, 'published without some commas');
      const expected = c.events.map((e) => ({ ...e, timestamp: receivedAt.toISOString() }));
      assert.deepEqual(normalizeText(c.body), expected);
    });
  }

  it('a recorded older CDR gives the call summary billsec and hangupcause, as the newer one does', () => {
    const tracker = new CallTracker();
    const older = FIXTURE.cases[1];
    const callId = older.events[0].callId;
    const base = { provider: 'cloud-callcenter', callId, direction: 'outbound', extension: '8003' };
    tracker.apply({ ...base, event: 'ringing', providerEvent: 'ring', timestamp: '2024-03-14T03:02:10.000Z' });
    tracker.apply({ ...base, event: 'answered', providerEvent: 'answer', timestamp: '2024-03-14T03:02:16.000Z' });
    const hangup = tracker.apply({
      ...base,
      event: 'hangup',
      providerEvent: 'hangup',
      outcome: 'unknown',
      timestamp: '2024-03-14T03:04:01.000Z',
    });
    assert.equal(hangup.call.durationSeconds, undefined);
    const [recording] = normalizeText(older.body).map((e) => tracker.apply(e));
    assert.deepEqual(recording.recordingUrls, ['http://203.0.113.25/20240314/8003_013912345678_110210.mp3']);
    assert.equal(recording.call.durationSeconds, 105);
    assert.equal(recording.call.hangupCause, '10001');
    assert.equal(recording.call.outcome, 'answered');
  });

  it('a comma-less CDR with prototype names as members: plain fields, no crash, no pollution', () => {
    const body = [
      '{',
      '"__proto__": {"recordurl": "http://evil.example/x.mp3"}',
      '"constructor": "x"',
      '"uuid": "u-proto"',
      '"billsec": 3',
      '"downloadip": "10.1.2.3"',
      '"recordfilename": "__proto__/constructor.mp3"',
      '}',
    ].join('\n');
    const [event] = normalizeText(body);
    assert.deepEqual(event.recordingUrls, ['http://10.1.2.3/__proto__/constructor.mp3']);
    assert.equal(event.callId, 'u-proto');
    assert.equal({}.recordurl, undefined);
  });

  it('builds http://{downloadip}/{recordfilename}, each path segment encoded [unverified form]', () => {
    assert.equal(recordingUrlFromDownloadIp('120.76.152.137', 'a.mp3'), 'http://120.76.152.137/a.mp3');
    assert.equal(recordingUrlFromDownloadIp('127.0.0.1:8089', '/callcenter/record/x.mp3'), 'http://127.0.0.1:8089/callcenter/record/x.mp3');
    assert.equal(
      recordingUrlFromDownloadIp('HTTPS://rec.example.com/', '2024/a b#1?.wav'),
      'https://rec.example.com/2024/a%20b%231%3F.wav',
    );
    assert.equal(recordingUrlFromDownloadIp('[2001:db8::7]:8080', 'r.mp3'), 'http://[2001:db8::7]:8080/r.mp3');
  });

  for (const [what, host, file] of [
    ['a host with a path', '10.0.0.1/evil', 'a.mp3'],
    ['a host with user info', 'user@10.0.0.1', 'a.mp3'],
    ['a host with spaces', '10.0.0.1 x', 'a.mp3'],
    ['a file name with ..', '10.0.0.1', '../../etc/passwd'],
    ['a file name of slashes only', '10.0.0.1', '///'],
    ['a file name with a control character', '10.0.0.1', 'a\r\nb.mp3'],
    ['a prototype name as host', '__proto__:1', 'a.mp3'],
  ]) {
    it(`no URL from ${what}`, () => {
      assert.equal(recordingUrlFromDownloadIp(host, file), undefined);
    });
  }

  it('recordurl wins; an http(s) recordfilename is a URL already; no downloadip, no URL', () => {
    assert.equal(cdrRecordingUrl({ recordurl: 'https://a/x.mp3', downloadip: '1.2.3.4', recordfilename: 'y.mp3' }), 'https://a/x.mp3');
    assert.equal(cdrRecordingUrl({ recordurl: '', downloadip: '1.2.3.4', recordfilename: 'http://b/y.mp3' }), 'http://b/y.mp3');
    assert.equal(cdrRecordingUrl({ recordfilename: 'y.mp3' }), undefined);
    assert.equal(cdrRecordingUrl({ downloadip: '1.2.3.4', recordfilename: '' }), undefined);
    assert.equal(cdrRecordingUrl({ downloadip: '1.2.3.4', recordfilename: 'constructor' }), 'http://1.2.3.4/constructor');
  });
});

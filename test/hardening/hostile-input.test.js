'use strict';
// Webhook bodies built to be slow to parse: every parser a webhook reaches stays linear in the
// size of its input, up to the 64 KiB body limit. The reply goes out before parsing of the event
// finishes, but a parser that blocks the event loop blocks every other request of Node-RED with
// it. Each case took seconds (up to 40 s) before the fix; the bounds are hang guards only.
const assert = require('node:assert/strict');
const { repairJson } = require('../../dist/core/tolerant-json');
const http = require('node:http');
const { parseWebhookBody, WebhookRouter, WEBHOOK_BODY_LIMIT, WEBHOOK_MAX_DEPTH } = require('../../dist/core/webhook-router');
const { normalize3cxWebhook } = require('../../dist/providers/3cx-webapi/webhook');
const { normalizeVoipNowWebhook } = require('../../dist/providers/voipnow/webhook');
const { fieldsOf } = require('../../dist/core/fields');

const HANG_GUARD_MS = 1000;

function timed(fn) {
  const start = process.hrtime.bigint();
  const value = fn();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

function fill(prefix, unit, suffix = '') {
  const room = WEBHOOK_BODY_LIMIT - prefix.length - suffix.length;
  return prefix + unit.repeat(Math.floor(room / unit.length)) + suffix;
}

const input = (fields) => ({ method: 'POST', query: Object.create(null), rawQuery: '', receivedAt: new Date(), ...fields });

describe('hardening: hostile webhook bodies are parsed in linear time', function () {
  this.timeout(60000);

  const JSON_CASES = [
    ['a value of colons only', fill('{"a":', ':')],
    ['unquoted values split by colons', fill('{"a":', 'x:')],
    ['half-quoted durations that never close', fill('{"Title":', '(1:1')],
    ['many keys without values', fill('{', '"k":')],
  ];
  for (const [name, body] of JSON_CASES) {
    it(`repairJson: 64 KiB of ${name} is rejected at once`, () => {
      const { value, ms } = timed(() => repairJson(body));
      assert.equal(value, undefined);
      assert.ok(ms < HANG_GUARD_MS, `${ms.toFixed(0)} ms`);
      const parsed = timed(() => parseWebhookBody(body, 'application/json'));
      assert.deepEqual(parsed.value, { ok: false });
      assert.ok(parsed.ms < HANG_GUARD_MS, `${parsed.ms.toFixed(0)} ms`);
    });
  }

  it('repairJson still repairs the documented half-quoted value next to a long one', () => {
    const long = 'x'.repeat(60000);
    assert.deepEqual(repairJson(`{"Note":"${long}","Callerid": 05551239988"}`), { Note: long, Callerid: '05551239988' });
    assert.deepEqual(repairJson('{"a": 1:2", "b": 3:4"}'), { a: '1:2', b: '3:4' });
  });

  const URL_CASES = [
    ['a bare URL with a 64 KiB run of spaces inside', fill('http://pbx.example/recording/', ' ', 'x1_2-1.mp3')],
    ['a bare URL with a run of tabs and quotes inside', fill('http://pbx.example/r/', '\t"', 'x')],
  ];
  for (const [name, body] of URL_CASES) {
    it(`3CX: ${name} is ignored at once`, () => {
      const { value, ms } = timed(() => {
        try {
          return normalize3cxWebhook(input({ body }));
        } catch (err) {
          return err.name;
        }
      });
      assert.ok(ms < HANG_GUARD_MS, `${ms.toFixed(0)} ms`);
      assert.notDeepEqual(value, undefined);
    });
    it(`3CX: FileUrls holding ${name} is ignored at once`, () => {
      const { value, ms } = timed(() => normalize3cxWebhook(input({ body: { Event: 'recording', Id: '1_2-1', FileUrls: [body] } })));
      assert.ok(ms < HANG_GUARD_MS, `${ms.toFixed(0)} ms`);
      assert.equal(value[0].recordingUrls, undefined, 'a URL with spaces inside is not a URL');
    });
  }

  it('3CX: bare recording URLs are still trimmed of quotes and spaces around them', () => {
    const [event] = normalize3cxWebhook(input({ body: ' "\u201chttp://pbx.example/recording/230102185935_18-1-1.mp3\u201d" ' }));
    assert.deepEqual(event.recordingUrls, ['http://pbx.example/recording/230102185935_18-1-1.mp3']);
    assert.equal(event.callId, '230102185935_18');
  });
});

// A body nested thousands of levels deep parses (JSON.parse is not recursive) but overflows the
// stack of whatever walks it next: Node-RED's message cloning, JSON.stringify in a flow, the
// duplicate filter's fingerprint of a body Node-RED already parsed. No PBX sends more than a few
// levels, so the endpoint answers 400 past WEBHOOK_MAX_DEPTH.
describe('hardening: deeply nested webhook bodies are refused', () => {
  const nested = (depth, open = '[', close = ']') => `{"Event":"ringing","Id":"1_1-0","x":${open.repeat(depth)}1${close.repeat(depth)}}`;
  let server;
  let deliveries;

  before(async () => {
    const router = new WebhookRouter([
      // Stands in for Node-RED's admin body parser (admin root "/"), which parses JSON before any node route.
      (req, _res, next) => {
        if (req.headers['x-preparsed'] !== 'yes') return next();
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
          req.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          req._body = true;
          next();
        });
      },
    ]);
    deliveries = [];
    router.register({ path: '/hook', onDelivery: (input, _f, reply) => (reply(200), deliveries.push(input)), onRejected: () => undefined });
    server = http.createServer((req, res) => router.handle(req, res, () => res.writeHead(404).end()));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
  });
  after(() => new Promise((r) => server.close(r)));

  const post = (body, headers = {}) =>
    fetch(`http://127.0.0.1:${server.address().port}/hook`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
    }).then((r) => r.status);

  it('parseWebhookBody: as deep as a PBX could mean is fine, deeper is unparseable', () => {
    assert.equal(parseWebhookBody(nested(WEBHOOK_MAX_DEPTH - 2), 'application/json').ok, true);
    assert.deepEqual(parseWebhookBody(nested(WEBHOOK_MAX_DEPTH), 'application/json'), { ok: false });
    assert.deepEqual(parseWebhookBody(nested(20000, '{"a":', '}'), 'application/json'), { ok: false });
  });

  it('the endpoint answers 400 to a deep body, read raw or already parsed, and delivers nothing', async () => {
    assert.equal(await post(nested(20000)), 400);
    assert.equal(await post(nested(20000), { 'X-Preparsed': 'yes' }), 400);
    assert.equal(await post(nested(5), { 'X-Preparsed': 'yes' }), 200);
    await new Promise((r) => setImmediate(r));
    assert.equal(deliveries.length, 1);
  });
});

// README: "Repeated query keys in a webhook: the first one counts." Field names are
// case-insensitive, so `event`, `EVENT` and `Event` are one key repeated: a sender (or a proxy)
// appending `&EVENT=...` must not override the event the PBX named first.
describe('hardening: repeated keys, in any letter case', () => {
  const fromQuery = (q) => ({ method: 'GET', query: parseForm(q), rawQuery: q, body: undefined, receivedAt: new Date() });
  const { parseForm } = require('../../dist/core/webhook-router');

  it('the first one counts, in the query and in a JSON body; body fields still win over query fields', () => {
    assert.equal(fieldsOf(fromQuery('event=dial-in&EVENT=hangup&Event=x')).event, 'dial-in');
    assert.equal(fieldsOf(input({ body: { Event: 'ringing', EVENT: 'incoming', event: 'x' } })).event, 'ringing');
    assert.equal(fieldsOf({ ...fromQuery('Event=incoming&id=9'), body: { event: 'ringing', EVENT: 'x' } }).event, 'ringing');
    assert.equal(fieldsOf({ ...fromQuery('Event=incoming&id=9'), body: { event: 'ringing' } }).id, '9');
  });

  it('a VoipNow hangup with an appended EVENT=dial-in stays a hangup', () => {
    const [event] = normalizeVoipNowWebhook(
      fromQuery('event=hangup&CallID=7&CallStatus=ANSWER&CallFlow=IN&CalledExtension=0003*201&EVENT=dial-in'),
    );
    assert.equal(event.event, 'hangup');
  });
});

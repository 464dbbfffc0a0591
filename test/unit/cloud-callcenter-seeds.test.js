'use strict';
// The cloud call center's vendor documents (cloud-callcenter-*.md, extracted to test/fixtures/vendor)
// drive these tests: the callback example of the document is normalized, and the example responses
// of GetGroupExt and GetQueueSipStatus are served as they are and mapped to SPEC results.
const assert = require('node:assert/strict');
const http = require('node:http');
const { cloudCallcenterExample } = require('../helpers/vendor-docs');
const { Account } = require('../../dist/core/account');
const { providerOf } = require('../../dist/providers');
const { parseFormBody } = require('../../dist/simulator/cloud-callcenter');

const definition = providerOf('cloud-callcenter');

describe('cloud-callcenter: the vendor callback document', () => {
  const doc = cloudCallcenterExample('cloud-callcenter-call-state-callback');
  const receivedAt = new Date('2024-05-06T07:08:09.000Z');
  const normalize = (body) => definition.normalizeWebhook({ method: 'POST', query: {}, rawQuery: '', body, receivedAt });

  it('reads the documented example (an outbound API call ringing)', () => {
    assert.equal(doc.status, 'ring');
    assert.equal(doc.direction, 'callout');
    assert.equal(doc.method, '3');
  });

  it('normalizes the documented example field by field', () => {
    assert.deepEqual(normalize(doc), [
      {
        event: 'ringing',
        provider: 'cloud-callcenter',
        providerEvent: 'ring',
        reference: '123Abc',
        callId: '526d637c-e8fe-11ea-a849-cf6e45e88543',
        legId: '526d643a-e8fe-11ea-a84a-cf6e45e88543',
        direction: 'outbound',
        extension: '90240005',
        extensionType: 'extension',
        from: '90240005',
        to: '87847569524',
        did: '2190240001',
        timestamp: '2020-08-28T07:15:59.000Z',
      },
    ]);
  });

  // The same document payload with the values the parameter table lists.
  const variants = [
    { change: { status: 'answer' }, expect: { event: 'answered', providerEvent: 'answer', timestamp: receivedAt.toISOString() } },
    {
      change: { status: 'hangup' },
      expect: { event: 'hangup', providerEvent: 'hangup', outcome: 'unknown', timestamp: receivedAt.toISOString() },
    },
    { change: { direction: 'callin' }, expect: { direction: 'inbound' } },
    { change: { direction: '1' }, expect: { direction: 'inbound' } },
    { change: { direction: '2' }, expect: { direction: 'outbound' } },
    { change: { method: '1', direction: 'callin' }, expect: { direction: 'internal' } },
    { change: { method: '1', direction: 'callout' }, expect: { direction: 'internal' } },
    { change: { method: '4', isbleg: 'true' }, expect: {} },
    { change: { direction: '' }, expect: { direction: 'unknown' } },
    { change: { buuid: '' }, expect: { legId: undefined } },
    { change: { starttime: '' }, expect: { timestamp: receivedAt.toISOString() } },
  ];
  for (const { change, expect } of variants) {
    it(`maps ${JSON.stringify(change)}`, () => {
      const [event] = normalize({ ...doc, ...change });
      const want = { ...normalize(doc)[0], ...expect };
      for (const k of Object.keys(want)) if (want[k] === undefined) delete want[k];
      assert.deepEqual(event, want);
    });
  }

  it('ignores a status it does not know and a callback type other than call', () => {
    assert.deepEqual(normalize({ ...doc, status: 'hold' }), []);
    assert.deepEqual(normalize({ ...doc, type: 'sms' }), []);
  });
});

describe('cloud-callcenter: the vendor example responses', () => {
  const groupExt = cloudCallcenterExample('cloud-callcenter-GetGroupExt');
  const queueStatus = cloudCallcenterExample('cloud-callcenter-GetQueueSipStatus');
  const TOKEN = 'doc-token-5f4dcc3b5aa765d61d8327deb882cf99';
  let server;
  let acct;
  const seen = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const fields = parseFormBody(Buffer.concat(chunks), String(req.headers['content-type']));
        seen.push(fields);
        let body;
        if (fields.service === 'App.Sip_Auth.Login') {
          body = {
            ret: 200,
            data: {
              status: 0,
              result: { companycode: '9026', companyname: 'Doc Co', token: TOKEN, authtime: '1581488746', authmodel: '1' },
            },
            msg: '',
          };
        } else if (fields.token !== TOKEN) {
          body = { ret: 600, data: null, msg: 'token invalid' };
        } else if (fields.service === 'App.Sip_Extgroup.GetGroupExt') {
          body = groupExt;
        } else if (fields.service === 'App.Sip_Queue.GetQueueSipStatus') {
          body = queueStatus;
        } else {
          body = { ret: 400, data: null, msg: 'unknown service' };
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    acct = new Account({
      settings: {
        provider: 'cloud-callcenter',
        baseUrl: `http://127.0.0.1:${server.address().port}/api`,
        timeout: 2000,
        rejectUnauthorized: true,
        credentials: { appId: 'doc-app-id-1234', appKey: 'doc-app-key-5678' },
      },
      definition,
      log: { debug() {}, warn() {} },
    });
  });
  after(() => {
    acct.close();
    server.close();
  });
  beforeEach(() => (seen.length = 0));

  it('GetGroupExt (data is a plain array) → extension-state', async () => {
    const result = await acct.run('status', 'extension-state', { extension: '9026004' });
    assert.deepEqual(result.payload, { extension: '9026004', state: 'idle', groups: ['autocall-9026'] });
    assert.deepEqual(result.raw, groupExt);
    assert.deepEqual(seen.at(-1), { service: 'App.Sip_Extgroup.GetGroupExt', token: TOKEN, extnumber: '9026004' });
  });

  it('GetGroupExt → extensions', async () => {
    const result = await acct.run('status', 'extensions', {});
    assert.deepEqual(result.payload, [{ extension: '9026004', state: 'idle', groups: ['autocall-9026'] }]);
    assert.deepEqual(seen.at(-1), { service: 'App.Sip_Extgroup.GetGroupExt', token: TOKEN });
  });

  it('GetGroupExt rows with state busy or status answer are busy', async () => {
    const { extensionStatesOf } = require('../../dist/providers/cloud-callcenter/results');
    const row = groupExt.data[0];
    assert.deepEqual(
      extensionStatesOf([
        { ...row, state: 'busy' },
        { ...row, extnumber: '9026005', status: 'answer' },
        { ...row, extnumber: '9026006', state: 'idle', status: 'hangup' },
        { ...row, extnumber: '9026007', state: 'something' },
        { ...row, name: 'second-group', state: 'idle' },
      ]).map((s) => [s.extension, s.state, s.groups.join(',')]),
      [
        ['9026004', 'busy', 'autocall-9026,second-group'],
        ['9026005', 'busy', 'autocall-9026'],
        ['9026006', 'idle', 'autocall-9026'],
        ['9026007', 'idle', 'autocall-9026'],
      ],
    );
  });

  it('GetQueueSipStatus (data.result) → queue-agents', async () => {
    const result = await acct.run('status', 'queue-agents', { queue: 'queue-1' });
    assert.deepEqual(result.payload, [
      { extension: '100001', name: '9026004_9026004_autocall-9026', loggedIn: true, state: 'idle', queue: 'queue-1' },
    ]);
    assert.deepEqual(result.raw, queueStatus);
    assert.deepEqual(seen.at(-1), { service: 'App.Sip_Queue.GetQueueSipStatus', token: TOKEN, queuename: 'queue-1', state: '0' });
  });

  it('logged in once for all of it, with appid and accesskey', async () => {
    await acct.run('status', 'extensions', {});
    assert.equal(seen.filter((f) => f.service === 'App.Sip_Auth.Login').length, 0, 'the token is cached');
    assert.equal(await acct.testConnection(), 'connected as Doc Co');
    assert.deepEqual(seen.at(-1), { service: 'App.Sip_Auth.Login', appid: 'doc-app-id-1234', accesskey: 'doc-app-key-5678' });
  });
});

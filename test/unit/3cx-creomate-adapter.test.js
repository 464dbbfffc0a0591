'use strict';
// Requests of the Creomate edition of the 3CX WebAPI (pbx-config `edition: creomate`): makecall
// takes `first` / `second` and answers `{ "chid": ... }`, the call chain id its webhooks carry.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { Account } = require('../../dist/core/account');
const { providerOf } = require('../../dist/providers');

const quiet = { debug() {}, warn() {} };
const KEY = 'doc-key-1234567890';
const EXAMPLE = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '../fixtures/vendor-pages/3cx-creomate-webhooks.json'), 'utf8'),
).examples.find((e) => e.label === 'makecall request and answer');

function account(baseUrl, extra) {
  return new Account({
    settings: { provider: '3cx-webapi', baseUrl, timeout: 2000, rejectUnauthorized: true, credentials: { accessKey: KEY }, extra },
    definition: providerOf('3cx-webapi'),
    log: quiet,
    retryDelaysMs: [10, 20],
  });
}

describe('3cx-webapi adapter, Creomate edition', () => {
  let server;
  let baseUrl;
  let answer;
  const seen = [];
  const accounts = [];
  const open = (extra) => {
    const a = account(baseUrl, extra);
    accounts.push(a);
    return a;
  };

  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      const [, key, method] = url.pathname.split('/').slice(1);
      seen.push({ method, query: Object.fromEntries(url.searchParams) });
      res.writeHead(key === KEY ? 200 : 404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${server.address().port}/webapi`;
  });
  after(() => {
    for (const a of accounts) a.close();
    server.close();
  });
  beforeEach(() => {
    seen.length = 0;
    answer = EXAMPLE.response;
  });

  it('offers the edition setting: k2m first (the default), then creomate', () => {
    const [setting] = providerOf('3cx-webapi').settings;
    assert.equal(setting.name, 'edition');
    assert.deepEqual(
      setting.options.map((o) => o.value),
      ['k2m', 'creomate'],
    );
    for (const o of setting.options) assert.ok(o.label['en-US'] && o.label['zh-CN'], o.value);
  });

  it('makecall sends first/second and gives the chid as callId', async () => {
    const { payload, raw } = await open({ edition: 'creomate' }).run('call', 'makecall', { extension: '800', destination: '381629759787' });
    assert.deepEqual(seen, [{ method: 'makecall', query: { first: '800', second: '381629759787' } }]);
    assert.deepEqual(payload, {
      ok: true,
      operation: 'makecall',
      extension: '800',
      destination: '381629759787',
      callId: '00000000-01dc-27fa-d1eb-64b00000002e',
    });
    assert.deepEqual(raw, EXAMPLE.response);
  });

  it('an answer without chid (or the K2M fields) is not the WebAPI: an honest failure', async () => {
    answer = { status: 'ok' };
    await assert.rejects(open({ edition: 'creomate' }).run('call', 'makecall', { extension: '800', destination: '1' }), (err) => {
      assert.equal(err.code, 'provider_error');
      assert.match(err.message, /makecall answered without/);
      return true;
    });
  });

  it('the K2M edition (the default) still sends firstnum/secondnum', async () => {
    answer = { firstNum: '800', secondNum: '1' };
    const { payload } = await open(undefined).run('call', 'makecall', { extension: '800', destination: '1' });
    assert.deepEqual(seen, [{ method: 'makecall', query: { firstnum: '800', secondnum: '1' } }]);
    assert.equal('callId' in payload, false);
  });
});

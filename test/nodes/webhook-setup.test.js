'use strict';
// What a pbx-config says about the runtime between the PBX and its webhooks, in a runtime
// (node-red-node-test-helper) whose HTTP server the router cannot claim requests on: with the
// admin app at '/', Node-RED parses webhook bodies first, and the log says so once per start;
// GET pbx-config/webhook-setup tells the dialog which notes apply. Bad trustedProxies stop the
// config, a bad publicUrl (only used by the dialog) is a warning.
const assert = require('node:assert/strict');
const { helper, load, pbxConfig } = require('../helpers/red');

const DEAD = 'http://127.0.0.1:9';
const KEY = 'webhook-setup-access-key-0123';

function logged(level, pattern) {
  const log = helper.log();
  return log.args.map(([entry]) => entry).filter((e) => e && e.level === log[level] && pattern.test(String(e.msg)));
}

const config = (id, props = {}) =>
  pbxConfig({ id, provider: '3cx-webapi', baseUrl: `${DEAD}/webapi`, webhookPath: `/pbx/${id}`, ...props });

describe('pbx-config: webhook setup of the runtime', function () {
  this.timeout(10000);
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
  });

  it('admin root "/" and no server to claim on: warned once for two config nodes, and the dialog is told', async () => {
    await load([config('one'), config('two')], { one: { accessKey: KEY }, two: { accessKey: KEY } });
    const warnings = logged('WARN', /rejects malformed JSON itself/);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    const res = await helper.request().get('/pbx-config/webhook-setup');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { bodiesParsedByNodeRed: true, httpNodeAuth: false });
  });

  for (const [label, settings] of [
    ['an admin root of its own', { httpAdminRoot: '/admin' }],
    ['no admin app', { httpAdminRoot: false }],
  ]) {
    it(`${label}: no admin-root warning, no tip`, async () => {
      helper.settings(settings);
      await load([config('one')], { one: { accessKey: KEY } });
      assert.deepEqual(logged('WARN', /httpAdminRoot/), []);
      assert.equal((await helper.request().get('/pbx-config/webhook-setup')).body.bodiesParsedByNodeRed, false);
    });
  }

  it('the admin root containing httpNodeRoot counts as the same root', async () => {
    helper.settings({ httpAdminRoot: '/red', httpNodeRoot: '/red/api' });
    await load([config('one')], { one: { accessKey: KEY } });
    assert.equal((await helper.request().get('/pbx-config/webhook-setup')).body.bodiesParsedByNodeRed, true);
  });

  it('httpNodeAuth: warned once, without the credentials, and the dialog is told', async () => {
    helper.settings({ httpAdminRoot: '/admin', httpNodeAuth: { user: 'hook-user', pass: 'hook-pass-hash-0123456789abcdef0' } });
    await load([config('one'), config('two')], { one: { accessKey: KEY }, two: { accessKey: KEY } });
    const warnings = logged('WARN', /httpNodeAuth is set/);
    assert.equal(warnings.length, 1);
    assert.doesNotMatch(warnings[0].msg, /hook-user|hook-pass/);
    assert.deepEqual((await helper.request().get('/pbx-config/webhook-setup')).body, { bodiesParsedByNodeRed: false, httpNodeAuth: true });
  });

  it('a bad trustedProxies entry stops the config and names the setting', async () => {
    await load([config('one', { trustedProxies: '10.0.0.0/8, proxy.local' })], { one: { accessKey: KEY } });
    const node = helper.getNode('one');
    assert.equal(node.account, undefined);
    assert.equal(node.configFault, 'bad-trusted-proxies');
    assert.match(node.configError, /trustedProxies: "proxy.local" is not an IP address or CIDR/);
  });

  it('a publicUrl that is not an http(s) URL without query is a warning only: the config runs', async () => {
    await load([config('one', { publicUrl: 'https://hooks.example.com/?x=1' })], { one: { accessKey: KEY } });
    assert.ok(helper.getNode('one').account);
    assert.equal(logged('WARN', /public URL "https:\/\/hooks\.example\.com\/\?x=1" is not an http\(s\) URL/).length, 1);
  });
});

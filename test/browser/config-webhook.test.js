'use strict';
/* global window, RED, $ -- functions passed to page.evaluate / waitForFunction run in the editor page */
// The webhook part of the pbx-config dialog in Chromium against a real Node-RED process: the
// webhook URL and the PBX setup text are built from the public URL when one is set (an
// environment variable shown as written, a bad URL marked invalid), the secret is said to be
// visible only until the deploy and can be copied in the full URL until then, and the notes about
// Node-RED's own settings show only when GET pbx-config/webhook-setup says they apply.
const assert = require('node:assert/strict');
const { launchChromium } = require('../helpers/browser');
const { NodeRedProcess } = require('../helpers/node-red-process');

const PUBLIC = 'https://hooks.example.com';

describe('config dialog in Chromium: webhook URL, secret and setup notes', function () {
  this.timeout(60000);
  let nr;
  let page;
  let browser;
  let pageErrors = [];
  /** The config node added through the dialog. */
  let configId;

  async function openEditor() {
    await page.goto(nr.adminUrl('/'));
    await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.getType('pbx-config'), null, { timeout: 30000 });
    await page.waitForFunction(() => !$('#red-ui-loading-progress').is(':visible'), null, { timeout: 30000 });
  }

  /** Opens the config dialog of `id` ('_ADD_': a new one) as the config nodes sidebar does. */
  async function openConfig(id) {
    await page.evaluate((nodeId) => RED.editor.editConfig('', 'pbx-config', nodeId), id);
    await page.locator('#node-config-input-provider').waitFor({ state: 'visible' });
    await page.waitForFunction(() => $('#red-ui-editor-stack .red-ui-tray:animated').length === 0);
  }

  async function closeConfig(button) {
    await page.locator(button).click();
    await page.waitForFunction(() => $('#red-ui-editor-stack .red-ui-tray').length === 0);
  }

  /** What the dialog shows about the webhook. */
  function shown() {
    return page.evaluate(() => ({
      url: $('#pbx-config-webhook-url').val(),
      hint: $('#pbx-config-webhook-hint').text(),
      note: $('#pbx-config-webhook-note:visible').text(),
      secretOnce: $('#pbx-config-secret-once:visible').text().trim(),
      copyFull: $('#pbx-config-copy-full-url:visible').length,
      adminRootTip: $('#pbx-config-admin-root-tip:visible').length,
      httpNodeAuth: $('#pbx-config-http-node-auth:visible').text(),
      publicUrlInvalid: $('#node-config-input-publicUrl').hasClass('input-error'),
    }));
  }

  async function typePublicUrl(value) {
    await page.locator('#node-config-input-publicUrl').fill(value);
    await page.locator('#node-config-input-publicUrl').dispatchEvent('change');
  }

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install Chromium with apt-get
    nr = await new NodeRedProcess({ adminRoot: '/admin', settings: { telemetry: { enabled: false } } }).start();
    browser = await launchChromium();
    ({ page, pageErrors } = browser);
    await openEditor();
  });

  after(async () => {
    await browser?.close();
    await nr?.stop();
    nr?.cleanup();
  });

  it('a new config: the URL follows the public URL, the secret is in it until deploy and copied whole', async () => {
    await openConfig('_ADD_');
    await page.locator('#node-config-input-provider').selectOption('3cx-webapi');
    await page.locator('#node-config-input-baseUrl').fill('http://127.0.0.1:9/webapi');
    await page.locator('#node-config-input-accessKey').fill('dialog-access-key');
    // A new config node gets a random secret from the runtime.
    await page.waitForFunction(() => $('#node-config-input-webhookSecret').val().length > 10);
    const secret = await page.locator('#node-config-input-webhookSecret').inputValue();
    const webhookPath = await page.locator('#node-config-input-webhookPath').inputValue();
    const hintOf = (url) =>
      page.evaluate(
        (u) => window.PbxEditor.fillHint(window.PbxEditor.localized(window.PbxEditor.provider('3cx-webapi').webhookHint), u),
        url,
      );

    // No public URL: this browser's address, and the dialog says so.
    let s = await shown();
    assert.equal(s.url, `${nr.url}${webhookPath}/${encodeURIComponent(secret)}`);
    assert.match(s.note, /Built from this browser's address/);
    assert.match(s.secretOnce, /^Shown only until you deploy/);
    assert.equal(s.copyFull, 1);
    // A real Node-RED with an admin root of its own and no httpNodeAuth: neither note applies.
    assert.equal(s.adminRootTip, 0);
    assert.equal(s.httpNodeAuth, '');

    await typePublicUrl(`${PUBLIC}/`);
    s = await shown();
    const full = `${PUBLIC}${webhookPath}/${encodeURIComponent(secret)}`;
    assert.equal(s.url, full);
    assert.equal(s.hint, await hintOf(full));
    assert.ok(s.hint.includes(full));
    assert.doesNotMatch(s.note, /browser's address/);

    // "Copy full URL" copies the URL with the secret.
    await page.evaluate(() => {
      window.copied = [];
      RED.clipboard.copyText = (text) => window.copied.push(text);
    });
    await page.locator('#pbx-config-copy-full-url').click();
    assert.deepEqual(await page.evaluate(() => window.copied), [full]);

    // An environment variable: shown as written, and said so.
    await typePublicUrl('${PUBLIC_URL}');
    s = await shown();
    assert.equal(s.url, `\${PUBLIC_URL}${webhookPath}/${encodeURIComponent(secret)}`);
    assert.match(s.note, /environment variable PUBLIC_URL when Node-RED runs: the editor shows it as written/);
    assert.equal(s.publicUrlInvalid, false);

    // Not an http(s) URL without query: marked invalid, and not used.
    for (const bad of [`${PUBLIC}/?x=1`, 'ftp://hooks.example.com', 'hooks.example.com']) {
      await typePublicUrl(bad);
      s = await shown();
      assert.equal(s.publicUrlInvalid, true, bad);
      assert.equal(s.url, `${nr.url}${webhookPath}/${encodeURIComponent(secret)}`, bad);
    }

    await typePublicUrl(PUBLIC);
    await closeConfig('#node-config-dialog-ok');
    configId = await page.evaluate(() => {
      let id;
      RED.nodes.eachConfig((n) => {
        if (n.type === 'pbx-config') id = n.id;
      });
      return id;
    });
    await page.locator('#red-ui-header-button-deploy').click();
    await page.waitForFunction(() => !RED.nodes.dirty(), null, { timeout: 20000 });
    const flows = await (await fetch(nr.adminUrl('/flows'))).json();
    assert.equal(flows.find((n) => n.id === configId).publicUrl, PUBLIC);
  });

  it('after deploy the secret is not known: no copy button, {secret} in the URL', async () => {
    await openEditor();
    await openConfig(configId);
    const webhookPath = await page.locator('#node-config-input-webhookPath').inputValue();
    const s = await shown();
    assert.equal(s.url, `${PUBLIC}${webhookPath}/{secret}`);
    assert.equal(s.secretOnce, '');
    assert.equal(s.copyFull, 0);
    assert.match(s.note, /The stored secret is not shown/);
    await closeConfig('#node-config-dialog-cancel');
  });

  it('shows the admin-root tip and the httpNodeAuth note when the runtime says they apply', async () => {
    await page.route('**/pbx-config/webhook-setup', (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify({ bodiesParsedByNodeRed: true, httpNodeAuth: true }) }),
    );
    try {
      await openConfig(configId);
      await page.waitForFunction(() => $('#pbx-config-admin-root-tip:visible').length === 1);
      const s = await shown();
      assert.match(s.httpNodeAuth, /httpNodeAuth is set: the PBX must send those credentials/);
      assert.match(await page.locator('#pbx-config-admin-root-tip').innerText(), /Set httpAdminRoot in settings\.js/);
      await closeConfig('#node-config-dialog-cancel');
    } finally {
      await page.unroute('**/pbx-config/webhook-setup');
    }
  });

  it('the cluster section: its rows show with a Redis URL, a URL that is not Redis is invalid, the settings are deployed', async () => {
    await openEditor();
    await openConfig(configId);
    const cluster = () =>
      page.evaluate(() => ({
        rows: $('.pbx-cluster-row:visible').length,
        invalid: $('#node-config-input-redisUrl').hasClass('input-error'),
        prefix: $('#node-config-input-keyPrefix').val(),
        down: $('#node-config-input-redisDown').val(),
      }));
    assert.deepEqual(await cluster(), { rows: 0, invalid: false, prefix: 'pbx:', down: 'local' });
    const typeRedisUrl = async (value) => {
      await page.locator('#node-config-input-redisUrl').fill(value);
      await page.locator('#node-config-input-redisUrl').dispatchEvent('change');
    };
    for (const bad of ['http://cache:6379', 'cache:6379', 'redis://cache:6379?db=1']) {
      await typeRedisUrl(bad);
      assert.equal((await cluster()).invalid, true, bad);
    }
    await typeRedisUrl('${REDIS_URL}');
    assert.deepEqual(await cluster(), { rows: 3, invalid: false, prefix: 'pbx:', down: 'local' });
    await typeRedisUrl('redis://127.0.0.1:6390/1');
    await page.locator('#node-config-input-keyPrefix').fill('acme:');
    await page.locator('#node-config-input-redisDown').selectOption('reject');
    await page.locator('#node-config-input-redisPassword').fill('dialog-redis-password');
    await closeConfig('#node-config-dialog-ok');
    await page.locator('#red-ui-header-button-deploy').click();
    await page.waitForFunction(() => !RED.nodes.dirty(), null, { timeout: 20000 });
    const flows = await (await fetch(nr.adminUrl('/flows'))).json();
    const saved = flows.find((n) => n.id === configId);
    assert.deepEqual([saved.redisUrl, saved.keyPrefix, saved.redisDown], ['redis://127.0.0.1:6390/1', 'acme:', 'reject']);
    assert.equal(JSON.stringify(flows).includes('dialog-redis-password'), false, 'the password is a credential, not a property');
  });

  it('raised no error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});

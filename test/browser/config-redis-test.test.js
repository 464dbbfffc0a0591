'use strict';
/* global window, RED, $ -- functions passed to page.evaluate / waitForFunction run in the editor page */
// Test connection in the pbx-config dialog with a Redis URL, in Chromium against a real Node-RED
// process, the simulator and a real redis-server with a password: the dialog sends the cluster
// fields and the Redis password (the typed one, or after deploy the stored one's placeholder) and
// shows the Redis part of the answer beside the PBX part, never the password.
const assert = require('node:assert/strict');
const { launchChromium } = require('../helpers/browser');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { startRedis } = require('../helpers/redis-server');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const PASSWORD = 'browser-redis-pw-7781';

describe('config dialog in Chromium: Test connection covers Redis', function () {
  this.timeout(60000);
  let nr;
  let page;
  let browser;
  let pageErrors = [];
  let redis;
  let sim;
  let configId;

  async function openEditor() {
    await page.goto(nr.adminUrl('/'));
    await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.getType('pbx-config'), null, { timeout: 30000 });
    await page.waitForFunction(() => !$('#red-ui-loading-progress').is(':visible'), null, { timeout: 30000 });
  }

  async function openConfig(id) {
    await page.evaluate((nodeId) => RED.editor.editConfig('', 'pbx-config', nodeId), id);
    await page.locator('#node-config-input-provider').waitFor({ state: 'visible' });
    await page.waitForFunction(() => $('#red-ui-editor-stack .red-ui-tray:animated').length === 0);
  }

  async function closeConfig(button) {
    await page.locator(button).click();
    await page.waitForFunction(() => $('#red-ui-editor-stack .red-ui-tray').length === 0);
  }

  /** Clicks Test connection; resolves with the result line once the answer is shown. */
  async function testConnection() {
    await page.locator('#pbx-config-test').click();
    await page.waitForFunction(() => /^(OK|failed):/.test($('#pbx-config-test-result').text()), null, { timeout: 15000 });
    return page.locator('#pbx-config-test-result').innerText();
  }

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install Chromium with apt-get
    redis = await startRedis({ password: PASSWORD });
    sim = await startSimulator({ stepMs: 20, talkMs: 200 });
    nr = await new NodeRedProcess({ adminRoot: '/admin', settings: { telemetry: { enabled: false } } }).start();
    browser = await launchChromium();
    ({ page, pageErrors } = browser);
    await openEditor();
  });

  after(async () => {
    await browser?.close();
    await nr?.stop();
    nr?.cleanup();
    await sim?.close();
    await redis?.stop();
  });

  it('shows the Redis part: connected with the typed password, refused with a wrong one', async () => {
    const requests = [];
    page.on('request', (r) => r.url().endsWith('/pbx-config/test') && requests.push(r.postDataJSON()));
    await openConfig('_ADD_');
    await page.locator('#node-config-input-provider').selectOption('3cx-webapi');
    await page.locator('#node-config-input-baseUrl').fill(`${sim.url}/webapi`);
    await page.locator('#node-config-input-accessKey').fill(DEFAULT_CREDENTIALS['3cx-webapi'].accessKey);
    await page.locator('#node-config-input-redisUrl').fill(redis.url);
    await page.locator('#node-config-input-redisUrl').dispatchEvent('change');
    await page.locator('#node-config-input-keyPrefix').fill('acme:');
    await page.locator('#node-config-input-redisPassword').fill(PASSWORD);

    const ok = await testConnection();
    assert.match(ok, new RegExp(`^OK: connected, [^;]+; Redis: connected \\(${redis.url.replace(/[.]/g, '\\.')}, prefix acme:\\)$`));
    assert.deepEqual(
      [requests[0].redisUrl, requests[0].keyPrefix, requests[0].redisDown, requests[0].credentials.redisPassword],
      [redis.url, 'acme:', 'local', PASSWORD],
    );

    await page.locator('#node-config-input-redisPassword').fill('not-the-password');
    const refused = await testConnection();
    assert.match(refused, /^failed: connected, [^;]+; Redis: password refused \(redis:\/\/127\.0\.0\.1:\d+\): check the Redis password$/);
    assert.equal(refused.includes('not-the-password'), false);
    assert.equal(await page.locator('#pbx-config-test-result').evaluate((e) => e.classList.contains('pbx-fail')), true);

    await page.locator('#node-config-input-redisPassword').fill(PASSWORD);
    configId = await page.evaluate(() => RED.editor.getEditStack().slice(-1)[0].id);
    await closeConfig('#node-config-dialog-ok');
    await page.locator('#red-ui-header-button-deploy').click();
    await page.waitForFunction(() => !RED.nodes.dirty(), null, { timeout: 20000 });
  });

  it('after deploy: the stored password is used for the deployed Redis URL only', async () => {
    // Loaded again, the editor knows only that a password is stored.
    await openEditor();
    await openConfig(configId);
    assert.equal(await page.locator('#node-config-input-redisPassword').inputValue(), '__PWRD__');
    const stored = await testConnection();
    assert.match(stored, /^OK: connected, [^;]+; Redis: connected \(redis:\/\/127\.0\.0\.1:\d+, prefix acme:\)$/);

    await page.locator('#node-config-input-redisUrl').fill(`${redis.url}/1`);
    const moved = await testConnection();
    assert.match(moved, /^failed: connected, [^;]+; Redis: the stored Redis password is only ever sent to the deployed Redis URL/);
    await closeConfig('#node-config-dialog-cancel');
  });

  it('raised no error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});

'use strict';
// The editor in a real browser: Debian's Chromium (driven by playwright-core) against a Node-RED
// process with the packed package installed and the loopback simulator. Palette, every edit
// dialog, a pbx-config created and deployed through the dialogs whose credentials never come back,
// completions of extensions from the PBX, help in the sidebar, and every example imported from
// Import → Examples and deployed with no invalid node. Screenshots go to
// .test-artifacts/screenshots/ (git-ignored).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { ensureBrowser } = require('../../scripts/ensure-browser');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, '.test-artifacts', 'screenshots');
const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ACTION_TYPES = ['pbx-event', 'pbx-call', 'pbx-status', 'pbx-queue'];
const EXAMPLES = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .sort();
/** What each dialog must contain besides the config node select. */
const DIALOG_FIELDS = {
  'pbx-event': ['#node-input-pbx-event-ringing', '#node-input-direction', '#node-input-outputs'],
  'pbx-call': ['#node-input-operation', '#node-input-extension', '#node-input-destination'],
  'pbx-status': ['#node-input-query', '#node-input-watch', '#node-input-extension'],
  'pbx-queue': ['#node-input-operation', '#node-input-extension', '#node-input-queue'],
};
/** The first words of each node's help (its palette tooltip paragraph). */
const HELP_START = {
  'pbx-config': /One phone system or cloud call-center account/,
  'pbx-event': /./,
  'pbx-call': /Controls calls on the phone system/,
  'pbx-status': /./,
  'pbx-queue': /Logs agents into and out of call queues/,
};

describe('editor in Chromium', function () {
  this.timeout(60000);
  let nr;
  let sim;
  let browser;
  let page;
  let profileDir;
  const pageErrors = [];
  /** The pbx-config node created through the dialogs. */
  let configId;

  async function shot(name, target) {
    const file = path.join(SHOTS, `${name}.png`);
    if (target) await page.locator(target).first().screenshot({ path: file });
    else await page.screenshot({ path: file });
    return file;
  }

  async function openEditor() {
    await page.goto(nr.adminUrl('/'));
    await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.getType('pbx-config') && document.querySelector('#red-ui-palette-pbx'), null, {
      timeout: 30000,
    });
    // The editor finishes loading flows after the palette appears.
    await page.waitForFunction(() => !document.querySelector('#red-ui-loading-progress') || !$('#red-ui-loading-progress').is(':visible'), null, {
      timeout: 30000,
    });
  }

  /** Drags a palette node onto the workspace; returns the new node's id. */
  async function dropFromPalette(type, x, y) {
    const before = await page.evaluate(() => {
      const ids = [];
      RED.nodes.eachNode((n) => ids.push(n.id));
      return ids;
    });
    const source = page.locator(`#red-ui-palette-pbx .red-ui-palette-node[data-palette-type="${type}"]`);
    await source.scrollIntoViewIfNeeded();
    const box = await source.boundingBox();
    const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 20, box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(chart.x + x, chart.y + y, { steps: 15 });
    await page.mouse.up();
    const id = await page.evaluate((known) => {
      let found = null;
      RED.nodes.eachNode((n) => {
        if (!known.includes(n.id)) found = n.id;
      });
      return found;
    }, before);
    assert.ok(id, `${type} dropped on the workspace`);
    return id;
  }

  async function openNodeDialog(id) {
    await page.locator(`#red-ui-workspace-chart g[id="${id}"] rect.red-ui-flow-node`).dblclick();
    await page.locator('#red-ui-editor-stack .red-ui-tray').first().waitFor({ state: 'visible' });
    await page.locator('.red-ui-tray .red-ui-tray-body form, .red-ui-tray .red-ui-tray-body .red-ui-tray-content').first().waitFor();
  }

  async function trayCount() {
    return page.locator('#red-ui-editor-stack .red-ui-tray').count();
  }

  async function closeTrays(button = '#node-dialog-cancel') {
    while ((await trayCount()) > 0) {
      const n = await trayCount();
      const config = page.locator('#node-config-dialog-cancel');
      if (await config.isVisible()) await config.click();
      else await page.locator(button).click();
      await page.waitForFunction((count) => $('#red-ui-editor-stack .red-ui-tray').length < count, n);
    }
  }

  async function deploy() {
    await page.locator('#red-ui-header-button-deploy').click();
    // An invalid node makes Node-RED ask before deploying: that is a failure here.
    await page.waitForFunction(
      () => !RED.nodes.dirty() || $('.ui-dialog:visible').length > 0,
      null,
      { timeout: 20000 },
    );
    const dialog = await page.evaluate(() => $('.ui-dialog:visible').text());
    assert.equal(dialog, '', `deploy asked: ${dialog}`);
  }

  async function invalidNodes() {
    return page.evaluate(() => {
      const bad = [];
      const check = (n) => {
        if (n.valid === false) bad.push({ id: n.id, type: n.type, name: n.name });
      };
      RED.nodes.eachNode(check);
      RED.nodes.eachConfig(check);
      return bad;
    });
  }

  /** Red triangles drawn on the workspace. */
  async function visibleErrorMarkers() {
    return page.locator('#red-ui-workspace-chart .red-ui-flow-node-error:not(.hide)').count();
  }

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install Chromium with apt-get
    const executablePath = ensureBrowser();
    fs.mkdirSync(SHOTS, { recursive: true });
    sim = await startSimulator({ stepMs: 15, talkMs: 200 });
    nr = await new NodeRedProcess({ adminRoot: '/admin', settings: { telemetry: { enabled: false } } }).start();
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-chromium-'));
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
      locale: 'en-US',
      timeout: 60000,
    });
    browser.setDefaultTimeout(15000);
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await openEditor();
  });

  after(async () => {
    await browser?.close();
    await nr?.stop();
    nr?.cleanup();
    await sim?.close();
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
  });

  it('shows every node type in the palette under category pbx', async () => {
    const palette = await page.evaluate(() => ({
      types: $('#red-ui-palette-pbx .red-ui-palette-node')
        .map((_, e) => $(e).attr('data-palette-type'))
        .get(),
      categories: ['pbx-config', 'pbx-event', 'pbx-call', 'pbx-status', 'pbx-queue'].map((t) => RED.nodes.getType(t).category),
    }));
    assert.deepEqual(palette.types.sort(), [...ACTION_TYPES].sort());
    assert.deepEqual(palette.categories, ['config', 'pbx', 'pbx', 'pbx', 'pbx']);
    await page.locator('#red-ui-palette-search input').fill('pbx');
    await page.waitForFunction(() => $('#red-ui-palette-pbx .red-ui-palette-node:visible').length === 4);
    await shot('palette', '#red-ui-palette');
    await page.locator('#red-ui-palette-search input').fill('');
  });

  it('creates a pbx-config through the dialog, deploys it, and never shows its credentials again', async () => {
    const eventId = await dropFromPalette('pbx-event', 200, 120);
    await openNodeDialog(eventId);
    await page.locator('#node-input-lookup-pbx').click();
    await page.locator('#node-config-input-provider').waitFor({ state: 'visible' });
    await page.locator('#node-config-input-name').fill('browser test PBX');
    await page.locator('#node-config-input-provider').selectOption('3cx-webapi');
    await page.locator('#node-config-input-baseUrl').fill(`${sim.url}/webapi`);
    await page.locator('#node-config-input-accessKey').fill(KEY);
    // A new config node gets a random webhook secret from the runtime.
    await page.waitForFunction(() => $('#node-config-input-webhookSecret').val().length > 10);
    const secret = await page.locator('#node-config-input-webhookSecret').inputValue();
    await page.locator('#pbx-config-test').click();
    await page.waitForFunction(() => /OK:|failed:/.test($('#pbx-config-test-result').text()) && !/testing/.test($('#pbx-config-test-result').text()));
    assert.match(await page.locator('#pbx-config-test-result').innerText(), /^OK:/);
    await shot('pbx-config-dialog-new', '#red-ui-editor-stack .red-ui-tray:last-child');
    await page.locator('#node-config-dialog-ok').click();
    await page.waitForFunction(() => $('#red-ui-editor-stack .red-ui-tray').length === 1);
    configId = await page.locator('#node-input-pbx').inputValue();
    assert.ok(configId && configId !== '_ADD_');
    await page.locator('#node-dialog-ok').click();
    await page.waitForFunction(() => $('#red-ui-editor-stack .red-ui-tray').length === 0);
    await deploy();

    // The runtime has the credentials: the deployed node lists extensions from the simulator.
    const directory = await (await fetch(nr.adminUrl(`/pbx-config/${configId}/directory?kind=extensions`))).json();
    assert.equal(directory.ok, true, JSON.stringify(directory));
    assert.ok(directory.entries.some((e) => e.value === '117'));

    // A fresh editor (as after a reload) gets no credential back.
    await openEditor();
    const eventNode = await page.evaluate(() => RED.nodes.filterNodes({ type: 'pbx-event' })[0].id);
    await openNodeDialog(eventNode);
    await page.locator('#node-input-lookup-pbx').click();
    await page.locator('#node-config-input-accessKey').waitFor({ state: 'visible' });
    for (const field of ['accessKey', 'webhookSecret']) {
      const input = page.locator(`#node-config-input-${field}`);
      assert.equal(await input.getAttribute('type'), 'password', field);
      const value = await input.inputValue();
      assert.notEqual(value, field === 'accessKey' ? KEY : secret, `${field} is not shown back`);
      assert.equal(value, '__PWRD__', `${field} shows the stored-value marker`);
    }
    assert.match(await page.locator('#pbx-config-webhook-url').inputValue(), /\/\{secret\}$/);
    const html = await page.content();
    assert.ok(!html.includes(KEY) && !html.includes(secret), 'no credential anywhere in the page');
    await shot('pbx-config-dialog-deployed', '#red-ui-editor-stack .red-ui-tray:last-child');
    await closeTrays();
  });

  for (const type of ACTION_TYPES) {
    it(`${type}: the edit dialog opens with its fields, and its help renders in the sidebar`, async () => {
      const id = await dropFromPalette(type, 250 + ACTION_TYPES.indexOf(type) * 40, 240 + ACTION_TYPES.indexOf(type) * 80);
      await openNodeDialog(id);
      for (const selector of ['#node-input-pbx', ...DIALOG_FIELDS[type]]) {
        assert.equal(await page.locator(selector).count(), 1, `${type}: ${selector}`);
      }
      if (configId) await page.locator('#node-input-pbx').selectOption(configId);
      // Every label is translated (no raw message key left).
      const untranslated = await page.evaluate(() =>
        $('.red-ui-tray:last .red-ui-tray-body label:visible, .red-ui-tray:last .red-ui-tray-body .form-tips:visible')
          .map((_, e) => $(e).text().trim())
          .get()
          .filter((t) => /^pbx-[a-z]+\.[a-z]/.test(t)),
      );
      assert.deepEqual(untranslated, []);
      await shot(`${type}-dialog`, '#red-ui-editor-stack .red-ui-tray:last-child');

      await page.locator('.red-ui-tray:last-child .red-ui-tray-footer-left button:has(i.fa-book)').click();
      await page.waitForFunction((t) => $('.red-ui-sidebar-help-stack, #red-ui-sidebar-content').text().includes(t === 'pbx-event' ? 'Inputs' : 'Outputs') || true, type);
      const help = page.locator('.red-ui-help').first();
      await help.waitFor({ state: 'visible' });
      const text = await help.innerText();
      assert.match(text, HELP_START[type], `${type} help`);
      assert.match(text, /Outputs|Details/);
      await shot(`${type}-help`, '#red-ui-sidebar');
      await page.locator('#node-dialog-ok').click();
      await page.waitForFunction(() => $('#red-ui-editor-stack .red-ui-tray').length === 0);
    });
  }

  it('completes the extension field of pbx-call from the PBX', async () => {
    const id = await page.evaluate(() => RED.nodes.filterNodes({ type: 'pbx-call' })[0].id);
    await openNodeDialog(id);
    await page.locator('#node-input-pbx').selectOption(configId);
    await page.locator('#node-input-operation').selectOption('makecall');
    const input = page.locator('#node-input-extension');
    await input.click();
    await input.pressSequentially('11', { delay: 50 });
    const menu = page.locator('.red-ui-autoComplete-container');
    await menu.waitFor({ state: 'visible' });
    const offered = await menu.locator('.red-ui-autoComplete-completion').allInnerTexts();
    assert.ok(offered.includes('117'), offered.join(', '));
    assert.ok(
      offered.every((v) => v.includes('11')),
      offered.join(', '),
    );
    await shot('pbx-call-completion');
    await menu.locator('.red-ui-autoComplete-completion', { hasText: '117' }).first().click();
    assert.equal(await input.inputValue(), '117');
    await page.locator('#node-dialog-ok').click();
    await page.waitForFunction(() => $('#red-ui-editor-stack .red-ui-tray').length === 0);
    assert.equal(await page.evaluate((nid) => RED.nodes.node(nid).extension, id), '117');
  });

  it('the config node help renders in the sidebar', async () => {
    await page.evaluate(() => RED.sidebar.help.show('pbx-config'));
    const help = page.locator('.red-ui-help').first();
    await help.waitFor({ state: 'visible' });
    assert.match(await help.innerText(), HELP_START['pbx-config']);
    await shot('pbx-config-help', '#red-ui-sidebar');
  });

  for (const file of EXAMPLES) {
    const name = file.replace(/\.json$/, '');
    it(`imports ${name} from Import → Examples and deploys it with no invalid node`, async () => {
      // Start from an empty workspace: examples share config node ids.
      const res = await fetch(nr.adminUrl('/flows'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify([]),
      });
      assert.ok(res.ok);
      await openEditor();
      await page.locator('#red-ui-header-button-sidemenu').click();
      await page.locator('#menu-item-import').click();
      await page.locator('#red-ui-clipboard-dialog-import-tabs').waitFor({ state: 'visible' });
      await page.locator('#red-ui-clipboard-dialog-import-tabs li', { hasText: 'Examples' }).click();
      const examples = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
      await examples.locator('.red-ui-treeList-label', { hasText: '@callflow/node-red-pbx' }).first().click();
      await examples.locator('.red-ui-treeList-label', { hasText: name }).first().click();
      await page.locator('#red-ui-clipboard-dialog-ok').click();
      // Imported nodes follow the mouse until a click places them.
      const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
      await page.mouse.move(chart.x + 120, chart.y + 80, { steps: 5 });
      await page.mouse.click(chart.x + 120, chart.y + 80);
      const imported = await page.evaluate(() => RED.nodes.filterNodes({}).filter((n) => /^pbx-/.test(n.type)).length);
      assert.ok(imported > 0, 'the example has pbx nodes');
      assert.deepEqual(await invalidNodes(), []);
      assert.equal(await visibleErrorMarkers(), 0, 'no red triangle');
      await deploy();
      assert.equal(await visibleErrorMarkers(), 0, 'no red triangle after deploy');
      await shot(`example-${name}`);
    });
  }

  it('raised no error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});

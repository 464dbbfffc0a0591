'use strict';
/* global window, document, RED, $ -- functions passed to page.evaluate / waitForFunction run in the editor page */
// The editor in a real browser: Debian's Chromium (driven by playwright-core) against a Node-RED
// process with the packed package installed and the loopback simulator. Palette, every edit
// dialog, a pbx-config created and deployed through the dialogs whose credentials never come back,
// completions of extensions from the PBX, help in the sidebar, and every example imported from
// Import → Examples and deployed with no invalid node. Screenshots go to
// .test-artifacts/screenshots/ (git-ignored).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launchChromium } = require('../helpers/browser');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, '.test-artifacts', 'screenshots');
const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
const ACTION_TYPES = ['pbx-event', 'pbx-call', 'pbx-status', 'pbx-queue'];
const EXAMPLES = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .sort();
/** What each dialog must contain besides the config node select. */
const DIALOG_FIELDS = {
  'pbx-event': ['#node-input-pbx-event-ringing', '#node-input-extensionMatch', '#node-input-direction', '#node-input-outputs'],
  'pbx-call': ['#node-input-operation', '#node-input-extension', '#node-input-destination', '#node-input-wait'],
  'pbx-status': ['#node-input-query', '#node-input-watch', '#node-input-extension'],
  'pbx-queue': ['#node-input-operation', '#node-input-extension', '#node-input-queue'],
};
/** The first words of each node's help (its palette tooltip paragraph). */
const HELP_START = {
  'pbx-config': /One phone system or cloud call-center account/,
  'pbx-event': /Sends one message for every call event/,
  'pbx-call': /Controls calls on the phone system/,
  'pbx-status': /Asks the phone system for the state of extensions/,
  'pbx-queue': /Logs agents into and out of call queues/,
  'pbx-stats': /Rolling statistics per call queue for wallboards/,
};

describe('editor in Chromium', function () {
  this.timeout(60000);
  let nr;
  let sim;
  let context; // a persistent Chromium context with a fresh profile
  let page;
  let browser;
  let pageErrors = [];
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
    await page.waitForFunction(
      () => window.RED && RED.nodes && RED.nodes.getType('pbx-config') && document.querySelector('#red-ui-palette-pbx'),
      null,
      {
        timeout: 30000,
      },
    );
    // The editor finishes loading flows after the palette appears.
    await page.waitForFunction(
      () => !document.querySelector('#red-ui-loading-progress') || !$('#red-ui-loading-progress').is(':visible'),
      null,
      {
        timeout: 30000,
      },
    );
    // Only this package's nodes in the palette: the pbx category at the top, ready to drag.
    const search = page.locator('#red-ui-palette-search input');
    await search.fill('');
    await search.click();
    await search.pressSequentially('pbx');
    await page.waitForFunction(
      () => $('#red-ui-palette-common').is(':hidden') && $('#red-ui-palette-pbx .red-ui-palette-node:visible').length === 6,
    );
  }

  /** Clicks the button beside the config node select: `add` (a new one) or `edit` (the selected one). */
  async function configButton(kind) {
    // Node-RED 4 has separate add / edit buttons; 3.x one lookup button for both.
    const button = page.locator(`#node-input-btn-pbx-${kind}, #node-input-lookup-pbx`).filter({ visible: true }).first();
    await button.click();
    await page.locator('#node-config-input-provider').waitFor({ state: 'visible' });
  }

  /** Drags a palette node onto the workspace; returns the new node's id. */
  async function dropFromPalette(type, x, y) {
    const before = await page.evaluate(() => {
      const ids = [];
      RED.nodes.eachNode((n) => ids.push(n.id));
      return ids;
    });
    const source = page.locator(`#red-ui-palette-pbx .red-ui-palette-node[data-palette-type="${type}"]`);
    const newNode = () =>
      page.evaluate((known) => {
        let found = null;
        RED.nodes.eachNode((n) => {
          if (!known.includes(n.id)) found = n.id;
        });
        return found;
      }, before);
    // A drag that starts while the palette still reflows can miss: try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const box = await source.boundingBox();
      const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2 + 20, box.y + box.height / 2, { steps: 5 });
      await page.mouse.move(chart.x + x, chart.y + y, { steps: 15 });
      await page.mouse.up();
      const id = await newNode();
      if (id) return id;
      await page.waitForTimeout(500);
    }
    throw new Error(`${type} could not be dropped on the workspace`);
  }

  async function openNodeDialog(id) {
    await page.locator(`#red-ui-workspace-chart g[id="${id}"] rect.red-ui-flow-node`).dblclick();
    await page.locator('#red-ui-editor-stack .red-ui-tray').first().waitFor({ state: 'visible' });
    await traysSettled();
  }

  async function trayCount() {
    return page.locator('#red-ui-editor-stack .red-ui-tray').filter({ visible: true }).count();
  }

  /** Waits until no edit tray slides any more. */
  async function traysSettled() {
    await page.waitForFunction(
      () => $('#red-ui-editor-stack .red-ui-tray:animated, #red-ui-editor-stack .red-ui-tray *:animated').length === 0,
    );
  }

  /** True while a config node tray is on top (the node's tray below it is detached meanwhile). */
  async function configTrayOpen() {
    return (await page.locator('#node-config-dialog-ok').filter({ visible: true }).count()) > 0;
  }

  /**
   * Clicks a button of the topmost tray until that tray is gone: a click while the trays still
   * slide can be ignored by the editor.
   */
  async function closeTopTray(configButtonId, nodeButtonId) {
    const config = await configTrayOpen();
    const gone = config
      ? () => $('#node-config-dialog-ok:visible').length === 0 && $('#node-dialog-ok:visible').length === 1
      : () => $('#red-ui-editor-stack .red-ui-tray').length === 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      await traysSettled();
      await page.locator(`#${config ? configButtonId : nodeButtonId}`).click();
      const closed = await page
        .waitForFunction(gone, null, { timeout: 3000 })
        .then(() => true)
        .catch(() => false);
      if (closed) {
        await traysSettled();
        return;
      }
    }
    throw new Error('the edit tray does not close');
  }

  /** Closes every open edit tray with its Cancel button, topmost first. */
  async function closeTrays() {
    while ((await trayCount()) > 0) await closeTopTray('node-config-dialog-cancel', 'node-dialog-cancel');
  }

  /** Clicks Done (or Add / Update) of the topmost tray. */
  async function confirmTray() {
    await closeTopTray('node-config-dialog-ok', 'node-dialog-ok');
  }

  async function deploy() {
    await page.locator('#red-ui-header-button-deploy').click();
    // An invalid node makes Node-RED ask before deploying: that is a failure here.
    await page.waitForFunction(
      () => (!RED.nodes.dirty() && $('.red-ui-deploy-button-spinner:visible').length === 0) || $('.ui-dialog:visible').length > 0,
      null,
      { timeout: 20000 },
    );
    const dialog = await page.evaluate(() => $('.ui-dialog:visible').text());
    assert.equal(dialog, '', `deploy asked: ${dialog}`);
  }

  /** A screenshot of the whole editor without notifications or a selection. */
  async function workspaceShot(name) {
    await page.evaluate(() => {
      $('.red-ui-notification').remove();
      RED.view.select('');
    });
    await page.waitForTimeout(300);
    await shot(name);
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
    fs.mkdirSync(SHOTS, { recursive: true });
    sim = await startSimulator({ stepMs: 15, talkMs: 200 });
    nr = await new NodeRedProcess({ adminRoot: '/admin', settings: { telemetry: { enabled: false } } }).start();
    browser = await launchChromium();
    ({ context, page, pageErrors } = browser);
    await openEditor();
  });

  afterEach(async function () {
    if (this.currentTest.state !== 'failed' || !page) return;
    // Keep what the page showed, then start the next test from a fresh editor.
    const name = this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    await page.screenshot({ path: path.join(SHOTS, `failed-${name}.png`) }).catch(() => undefined);
    await openEditor().catch(() => undefined);
  });

  after(async () => {
    await browser?.close();
    await nr?.stop();
    nr?.cleanup();
    await sim?.close();
  });

  it('shows every node type in the palette under category pbx', async () => {
    const palette = await page.evaluate(() => ({
      types: $('#red-ui-palette-pbx .red-ui-palette-node')
        .map((_, e) => $(e).attr('data-palette-type'))
        .get(),
      categories: ['pbx-config', 'pbx-event', 'pbx-call', 'pbx-status', 'pbx-queue', 'pbx-missed', 'pbx-stats'].map(
        (t) => RED.nodes.getType(t).category,
      ),
    }));
    assert.deepEqual(palette.types.sort(), [...ACTION_TYPES, 'pbx-missed', 'pbx-stats'].sort());
    assert.deepEqual(palette.categories, ['config', 'pbx', 'pbx', 'pbx', 'pbx', 'pbx', 'pbx']);
    await shot('palette', '#red-ui-palette');
  });

  it('creates a pbx-config through the dialog, deploys it, and never shows its credentials again', async () => {
    const eventId = await dropFromPalette('pbx-event', 200, 120);
    await openNodeDialog(eventId);
    await configButton('add');
    await page.locator('#node-config-input-name').fill('browser test PBX');
    await page.locator('#node-config-input-provider').selectOption('3cx-webapi');
    await page.locator('#node-config-input-baseUrl').fill(`${sim.url}/webapi`);
    await page.locator('#node-config-input-accessKey').fill(KEY);
    // A new config node gets a random webhook secret from the runtime.
    await page.waitForFunction(() => $('#node-config-input-webhookSecret').val().length > 10);
    const secret = await page.locator('#node-config-input-webhookSecret').inputValue();
    await page.locator('#pbx-config-test').click();
    await page.waitForFunction(
      () => /OK:|failed:/.test($('#pbx-config-test-result').text()) && !/testing/.test($('#pbx-config-test-result').text()),
    );
    assert.match(await page.locator('#pbx-config-test-result').innerText(), /^OK:/);
    await shot('pbx-config-dialog-new', '#red-ui-editor-stack .red-ui-tray:last-child');
    await confirmTray();
    configId = await page.locator('#node-input-pbx').inputValue();
    assert.ok(configId && configId !== '_ADD_');
    // Before any deploy, completions come from the config node's values as typed in the dialog.
    const extension = page.locator('#node-input-extension');
    await extension.click();
    await extension.pressSequentially('117', { delay: 50 });
    await page.waitForFunction(() => $('.red-ui-autoComplete-container .red-ui-autoComplete-completion').text() === '117');
    await extension.press('Escape');
    await extension.fill('');
    await confirmTray();
    await deploy();

    // The runtime has the credentials: the deployed node lists extensions from the simulator.
    const directory = await (await fetch(nr.adminUrl(`/pbx-config/${configId}/directory?kind=extensions`))).json();
    assert.equal(directory.ok, true, JSON.stringify(directory));
    assert.ok(directory.entries.some((e) => e.value === '117'));

    // A fresh editor (as after a reload) gets no credential back.
    await openEditor();
    const eventNode = await page.evaluate(() => RED.nodes.filterNodes({ type: 'pbx-event' })[0].id);
    await openNodeDialog(eventNode);
    await configButton('edit');
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

  /** A webhook hint of the registry with the URL filled in, as the dialog shows it. */
  function fillHint(template, url) {
    return template.replace(/\{url(\?[^}]*)?\}/g, (_all, query) =>
      query ? `${url}${url.includes('?') ? '&' : '?'}${query.slice(1)}` : url,
    );
  }

  it('renders every provider of the registry in the config dialog: rows, base URL example, webhook hint', async () => {
    const catalog = await (await fetch(nr.adminUrl('/pbx-config/providers'))).json();
    await ensureConfig();
    // Any pbx node of the workspace: its dialog leads to the config dialog.
    const opened = await page.evaluate((id) => {
      const node = RED.nodes.filterNodes({}).find((n) => /^pbx-(event|call|status|queue)$/.test(n.type) && n.pbx === id);
      if (node) RED.editor.edit(node);
      return !!node;
    }, configId);
    assert.ok(opened, 'a pbx node using the config');
    await traysSettled();
    await configButton('edit');
    const offered = await page.evaluate(() =>
      $('#node-config-input-provider option')
        .map((_, o) => [[o.value, $(o).text()]])
        .get(),
    );
    assert.deepEqual(
      offered,
      Object.entries(catalog).map(([id, p]) => [id, p.label['en-US']]),
    );
    for (const [id, p] of Object.entries(catalog)) {
      await page.locator('#node-config-input-provider').selectOption(id);
      const shown = await page.evaluate(() => ({
        rows: $('.pbx-credential-row:visible')
          .map((_, row) => [[$(row).attr('data-credential'), $(row).find('label').text().trim()]])
          .get(),
        settings: $('.pbx-setting-row:visible')
          .map((_, row) => [
            [
              $(row).attr('data-setting'),
              $(row).find('.pbx-field-label').text().trim(),
              $(row).find('select').val(),
              $(row)
                .find('option')
                .map((__, o) => `${o.value}=${$(o).text()}`)
                .get(),
            ],
          ])
          .get(),
        placeholder: $('#node-config-input-baseUrl').attr('placeholder'),
        url: $('#pbx-config-webhook-url').val(),
        hint: $('#pbx-config-webhook-hint').text(),
      }));
      assert.deepEqual(
        shown.rows,
        p.credentials.map((c) => [c.name, c.label['en-US']]),
        id,
      );
      // Only this provider's settings (3cx-webapi: edition), its first option preselected.
      assert.deepEqual(
        shown.settings,
        (p.settings ?? []).map((st) => [
          st.name,
          st.label['en-US'],
          st.options[0].value,
          st.options.map((o) => `${o.value}=${o.label['en-US']}`),
        ]),
        id,
      );
      assert.equal(shown.placeholder, p.baseUrlPlaceholder, id);
      assert.match(shown.url, /^http:\/\/127\.0\.0\.1:\d+\/pbx\/\S+$/, id);
      assert.equal(shown.hint, fillHint(p.webhookHint['en-US'], shown.url), id);
      assert.ok(shown.hint.includes(shown.url), id);
    }
    await shot('pbx-config-dialog-providers', '#red-ui-editor-stack .red-ui-tray:last-child');
    await closeTrays();
  });

  it('the help tables list what each provider supports, from the registry', async () => {
    const catalog = await (await fetch(nr.adminUrl('/pbx-config/providers'))).json();
    for (const [type, kind] of [
      ['pbx-call', 'call'],
      ['pbx-status', 'status'],
      ['pbx-queue', 'queue'],
    ]) {
      const rows = await page.evaluate(
        (t) =>
          $('<div>')
            .html(RED.nodes.getNodeHelp(t))
            .find('table.pbx-support-table tr')
            .map((_, tr) => [
              $(tr)
                .children()
                .map((__, cell) => $(cell).text())
                .get(),
            ])
            .get(),
        type,
      );
      assert.deepEqual(rows[0], ['operation', 'parameters', 'providers'], type);
      // Every operation of every provider, with that provider's own parameters.
      for (const [id, p] of Object.entries(catalog)) {
        for (const o of p.operations.filter((op) => op.node === kind)) {
          const params = [...o.required, ...o.optional.map((x) => `${x} (optional)`)].join(', ') || '—';
          const row = rows.find((r) => r[0] === o.name && r[1] === params);
          assert.ok(row && row[2].split(', ').includes(p.label['en-US']), `${type}: ${id} ${o.name} (${params})`);
        }
      }
    }
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
      const help = page.locator('.red-ui-help').filter({ visible: true }).first();
      await help.waitFor({ state: 'visible' });
      const text = await help.innerText();
      assert.match(text, HELP_START[type], `${type} help`);
      assert.match(text, /Outputs|Details/);
      await shot(`${type}-help`, '#red-ui-sidebar');
      await confirmTray();
    });
  }

  /** The deployed pbx-config: the one the dialog test created, or one deployed through the admin API. */
  async function ensureConfig() {
    if (configId) return configId;
    configId = 'browser-test-config';
    await nr.deploy([
      { id: 'tab-browser', type: 'tab', label: 'Flow 1' },
      {
        id: configId,
        type: 'pbx-config',
        name: 'browser test PBX',
        provider: '3cx-webapi',
        baseUrl: `${sim.url}/webapi`,
        webhookPath: '/pbx/browser-test',
        timeout: 10000,
        rejectUnauthorized: true,
        allowFrom: '',
        credentials: { accessKey: KEY },
      },
      // A node using it: its dialog leads to the config dialog.
      {
        id: 'browser-test-event',
        type: 'pbx-event',
        z: 'tab-browser',
        pbx: configId,
        events: [],
        direction: 'any',
        outputs: 1,
        x: 120,
        y: 60,
        wires: [[]],
      },
    ]);
    await openEditor();
    return configId;
  }

  const COMPLETIONS = [
    // type, select settings, field, typed, expected completions (from the simulator)
    ['pbx-call', { operation: 'makecall' }, 'extension', '11', ['110', '111', '112', '113', '114', '115', '117']],
    ['pbx-queue', { operation: 'login' }, 'queue', '8', ['807', '820']],
    ['pbx-status', { query: 'group-members' }, 'group', '86', ['860', '861']],
    ['pbx-event', {}, 'extension', '20', ['120', '201', '202', '203', '204']],
    ['pbx-stats', {}, 'queues', '8', ['807', '820']],
  ];
  for (const [type, selects, field, typed, expected] of COMPLETIONS) {
    it(`${type}: the ${field} field completes from the PBX`, async () => {
      await ensureConfig();
      const id = await dropFromPalette(type, 560, 160 + COMPLETIONS.findIndex((c) => c[0] === type) * 60);
      await openNodeDialog(id);
      await page.locator('#node-input-pbx').selectOption(configId);
      for (const [select, value] of Object.entries(selects)) await page.locator(`#node-input-${select}`).selectOption(value);
      // A TypedInput keeps the original input hidden and shows its own.
      const typedInput = (await page.locator(`#node-input-${field} + .red-ui-typedInput-container`).count()) > 0;
      const input = page.locator(
        typedInput ? `#node-input-${field} + .red-ui-typedInput-container input.red-ui-typedInput-input` : `#node-input-${field}`,
      );
      await input.click();
      await input.pressSequentially(typed, { delay: 50 });
      const menu = page.locator('.red-ui-autoComplete-container');
      await menu.waitFor({ state: 'visible' });
      // The list follows what was typed.
      await page.waitForFunction((t) => {
        const offered = $('.red-ui-autoComplete-container .red-ui-autoComplete-completion')
          .map((_, e) => $(e).text())
          .get();
        return offered.length > 0 && offered.every((v) => v.includes(t));
      }, typed);
      assert.deepEqual(await menu.locator('.red-ui-autoComplete-completion').allInnerTexts(), expected);
      await shot(`${type}-completion-${field}`, '#red-ui-editor');
      await menu.locator('.red-ui-autoComplete-completion', { hasText: expected[0] }).first().click();
      assert.equal(await page.evaluate((f) => $(`#node-input-${f}`).val(), field), expected[0]);
      await confirmTray();
      assert.equal(await page.evaluate(([nid, f]) => RED.nodes.node(nid)[f], [id, field]), expected[0]);
    });
  }

  it('pbx-stats: the queues field completes each term of its comma list, leaving out queues it names', async () => {
    await ensureConfig();
    const id = await dropFromPalette('pbx-stats', 480, 560);
    await openNodeDialog(id);
    await page.locator('#node-input-pbx').selectOption(configId);
    const input = page.locator('#node-input-queues');
    // The menu of this term (the menu of an earlier field may still be fading out): every queue but 807.
    const offered = () =>
      page.evaluate(() =>
        $('.red-ui-autoComplete-container:visible .red-ui-autoComplete-completion')
          .map((_, e) => $(e).text())
          .get(),
      );
    // Under load the editor can move the focus away between keystrokes; Playwright then puts the
    // caret back at the start of the field. Type the list, caret at its end, until the field holds
    // exactly it and its menu is shown (up to 3 times).
    for (let attempt = 0; attempt < 3; attempt++) {
      await input.fill('807, ');
      await input.press('End');
      await input.pressSequentially('8', { delay: 50 });
      const shown = await page
        .waitForFunction(
          () =>
            $('#node-input-queues').val() === '807, 8' &&
            $('.red-ui-autoComplete-container:visible .red-ui-autoComplete-completion').text() === '820',
          null,
          { timeout: 5000 },
        )
        .then(() => true)
        .catch(() => false);
      if (shown) break;
    }
    assert.equal(await input.inputValue(), '807, 8');
    assert.deepEqual(await offered(), ['820']);
    await page.locator('.red-ui-autoComplete-container:visible .red-ui-autoComplete-completion', { hasText: '820' }).first().click();
    assert.equal(await input.inputValue(), '807, 820');
    await confirmTray();
    assert.equal(await page.evaluate((nid) => RED.nodes.node(nid).queues, id), '807, 820');
  });

  it('pbx-stats: the dialog has its fields and defaults, checks their ranges, accepts a node saved without them; help renders', async () => {
    await ensureConfig();
    const id = await dropFromPalette('pbx-stats', 620, 620);
    await openNodeDialog(id);
    assert.equal(await page.locator('#node-input-pbx').inputValue(), configId, 'the only config is preselected');
    const values = await page.evaluate(() =>
      ['queues', 'window', 'serviceLevel', 'interval', 'name'].map((f) => [f, $(`#node-input-${f}`).val()]),
    );
    assert.deepEqual(values, [
      ['queues', ''],
      ['window', '15'],
      ['serviceLevel', '20'],
      ['interval', '10'],
      ['name', ''],
    ]);
    const untranslated = await page.evaluate(() =>
      $('.red-ui-tray:last .red-ui-tray-body label:visible, .red-ui-tray:last .red-ui-tray-body .form-tips:visible')
        .map((_, e) => $(e).text().trim())
        .get()
        .filter((t) => /^pbx-[a-z]+\.[a-z]/.test(t)),
    );
    assert.deepEqual(untranslated, []);
    assert.match(await page.locator('.red-ui-tray:last-child .form-tips').first().innerText(), /VoipNow/);
    await shot('pbx-stats-dialog', '#red-ui-editor-stack .red-ui-tray:last-child');
    // Each setting's validator: in range, or missing (an older or imported node: the runtime's default).
    const verdicts = await page.evaluate(() => {
      const defaults = RED.nodes.getType('pbx-stats').defaults;
      const check = (name, v) => defaults[name].validate.call({}, v, {});
      return {
        window: [
          check('window', 1),
          check('window', 1440),
          check('window', ''),
          check('window', undefined),
          check('window', 0),
          check('window', 1441),
          check('window', 'x'),
        ],
        serviceLevel: [
          check('serviceLevel', 1),
          check('serviceLevel', 3600),
          check('serviceLevel', ''),
          check('serviceLevel', 0),
          check('serviceLevel', 3601),
        ],
        interval: [check('interval', 0), check('interval', 3600), check('interval', null), check('interval', -1), check('interval', 3601)],
      };
    });
    assert.deepEqual(verdicts, {
      window: [true, true, true, true, false, false, false],
      serviceLevel: [true, true, true, false, false],
      interval: [true, true, true, false, false],
    });
    await page.locator('#node-input-window').fill('0');
    await page.locator('#node-input-window').blur();
    assert.equal(await page.locator('#node-input-window').evaluate((e) => e.classList.contains('input-error')), true, 'window 0 is marked');
    await page.locator('#node-input-window').fill('30');
    await page.locator('#node-input-window').blur();

    await page.locator('.red-ui-tray:last-child .red-ui-tray-footer-left button:has(i.fa-book)').click();
    const help = page.locator('.red-ui-help').filter({ visible: true }).first();
    await help.waitFor({ state: 'visible' });
    const text = await help.innerText();
    assert.match(text, HELP_START['pbx-stats']);
    assert.match(text, /serviceLevelPercent/);
    await shot('pbx-stats-help', '#red-ui-sidebar');
    await confirmTray();
    assert.equal(await page.evaluate((nid) => Number(RED.nodes.node(nid).window), id), 30);
    // A node imported without the settings (as saved before they existed) is valid.
    const valid = await page.evaluate((cfg) => {
      const z = RED.workspaces.active();
      RED.nodes.import([{ id: 'stats-without-settings', type: 'pbx-stats', z, pbx: cfg, x: 900, y: 340, wires: [[]] }]);
      return RED.nodes.node('stats-without-settings').valid;
    }, configId);
    assert.equal(valid, true);
  });

  /** The pbx-config nodes the editor has. */
  function configIds() {
    return page.evaluate(() => {
      const ids = [];
      RED.nodes.eachConfig((c) => {
        if (c.type === 'pbx-config') ids.push(c.id);
      });
      return ids;
    });
  }

  it('a new event or action node picks the only pbx-config, and greys out what its provider lacks, saying why', async () => {
    await ensureConfig();
    assert.deepEqual(await configIds(), [configId], 'exactly one pbx-config');
    const eventId = await dropFromPalette('pbx-event', 700, 420);
    await openNodeDialog(eventId);
    assert.equal(await page.locator('#node-input-pbx').inputValue(), configId, 'pbx-event');
    await confirmTray();
    assert.equal(await page.evaluate((id) => RED.nodes.node(id).pbx, eventId), configId);

    const callId = await dropFromPalette('pbx-call', 700, 500);
    await openNodeDialog(callId);
    assert.equal(await page.locator('#node-input-pbx').inputValue(), configId, 'pbx-call');
    // The config is 3CX WebAPI: doublecall is there, greyed out, with the reason.
    const options = () =>
      page.evaluate(() =>
        $('#node-input-operation option')
          .map((_, o) => [[o.value, $(o).text(), o.disabled]])
          .get(),
      );
    const offered = await options();
    const doublecall = offered.find(([value]) => value === 'doublecall');
    assert.ok(doublecall, JSON.stringify(offered));
    assert.equal(doublecall[2], true, 'doublecall cannot be chosen');
    assert.match(doublecall[1], /not supported by 3CX WebAPI/);
    for (const op of ['makecall', 'answer', 'drop', 'transfer', 'join']) {
      const option = offered.find(([value]) => value === op);
      assert.ok(option && !option[2] && !/not supported/.test(option[1]), op);
    }
    await shot('pbx-call-unsupported-operation', '#red-ui-editor-stack .red-ui-tray:last-child');
    // Wait is offered for makecall (and doublecall), not for the other operations.
    await page.locator('#node-input-operation').selectOption('makecall');
    assert.equal(await page.locator('#node-input-wait').isVisible(), true, 'wait shown for makecall');
    await page.locator('#node-input-wait').fill('45');
    await page.locator('#node-input-operation').selectOption('drop');
    assert.equal(await page.locator('#node-input-wait').isVisible(), false, 'wait hidden for drop');
    await page.locator('#node-input-operation').selectOption('makecall');
    await confirmTray();
    assert.equal(await page.evaluate((id) => Number(RED.nodes.node(id).wait), callId), 45);
    assert.equal(await page.evaluate((id) => RED.nodes.node(id).pbx, callId), configId);
  });

  it('speaks Chinese to a zh-CN browser: labels, status texts and help', async () => {
    const zh = await context.browser().newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 900 } });
    try {
      const zhPage = await zh.newPage();
      await zhPage.goto(nr.adminUrl('/'));
      await zhPage.waitForFunction(() => window.RED && RED.nodes && RED.nodes.getType('pbx-call') && RED.nodes.getType('pbx-queue'), null, {
        timeout: 30000,
      });
      const texts = await zhPage.evaluate(() => ({
        label: RED._('@callflow/node-red-pbx/pbx-call:pbx-call.label.extension'),
        status: RED._('@callflow/node-red-pbx/pbx-config:status.auth-failed'),
        help: $('<div>').html(RED.nodes.getNodeHelp('pbx-call')).text(),
        headers: $('<div>')
          .html(RED.nodes.getNodeHelp('pbx-call'))
          .find('table.pbx-support-table th')
          .map((_, th) => $(th).text())
          .get(),
        table: $('<div>').html(RED.nodes.getNodeHelp('pbx-queue')).find('table.pbx-support-table').text(),
        providers: $('<div>').html(RED.nodes.getNodeHelp('pbx-config')).find('.pbx-provider-list').text(),
        options: $('<div>')
          .html($('script[data-template-name="pbx-config"]').html())
          .find('#node-config-input-provider option')
          .map((_, o) => $(o).text())
          .get(),
        rows: $('<div>')
          .html($('script[data-template-name="pbx-config"]').html())
          .find('.pbx-credential-row label')
          .map((_, l) => $(l).text().trim())
          .get(),
      }));
      assert.deepEqual([texts.label, texts.status], ['分机', '认证失败']);
      assert.match(texts.help, /[\u4e00-\u9fff]/);
      // What the editor renders from the provider registry, in Chinese.
      const catalog = await (await fetch(nr.adminUrl('/pbx-config/providers'))).json();
      const zhLabels = Object.values(catalog).map((p) => p.label['zh-CN']);
      assert.deepEqual(texts.headers, ['操作', '参数', '服务商']);
      assert.deepEqual(texts.options, zhLabels);
      assert.ok(
        zhLabels.some((l) => texts.table.includes(l)),
        texts.table,
      );
      assert.ok(texts.table.includes('（可选）'), texts.table);
      for (const p of Object.values(catalog)) {
        assert.ok(texts.providers.includes(p.label['zh-CN']), p.label['zh-CN']);
        assert.ok(texts.providers.includes(p.webhookHint['zh-CN'].split('\n')[0]), p.webhookHint['zh-CN']);
      }
      // One row per credential name, labelled as the first provider that has it.
      const rows = new Map();
      for (const c of Object.values(catalog).flatMap((p) => p.credentials)) if (!rows.has(c.name)) rows.set(c.name, c.label['zh-CN']);
      assert.deepEqual(texts.rows, [...rows.values()]);
    } finally {
      await zh.close();
    }
  });

  it('the config node help renders in the sidebar', async () => {
    await page.evaluate(() => RED.sidebar.help.show('pbx-config'));
    const help = page.locator('.red-ui-help').filter({ visible: true }).first();
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
      // The import lands after the click is handled: wait for it rather than read at once.
      const imported = await page
        .waitForFunction(() => RED.nodes.filterNodes({}).filter((n) => /^pbx-/.test(n.type)).length, null, { timeout: 5000 })
        .then((count) => count.jsonValue())
        .catch(() => 0);
      assert.ok(imported > 0, 'the example has pbx nodes');
      assert.deepEqual(await invalidNodes(), []);
      assert.equal(await visibleErrorMarkers(), 0, 'no red triangle');
      await deploy();
      assert.equal(await visibleErrorMarkers(), 0, 'no red triangle after deploy');
      await workspaceShot(`example-${name}`);
    });
  }

  it('raised no error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});

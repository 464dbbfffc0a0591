'use strict';
/* global window, RED, $ -- functions passed to page.evaluate / waitForFunction run in the editor page */
// Adding a provider is one folder under src/providers/ and one entry in src/providers/index.ts.
// This test does exactly that to a copy of the package, with the fixture provider in ./tiny-pbx
// (which the package itself never contains): builds and packs the copy, installs it in a real
// Node-RED, and finds the provider everywhere: in GET pbx-config/providers, in the config dialog
// (its label, credential and setting rows, webhook hint) in Chromium in en-US and zh-CN, as the
// only operations the action nodes offer, in the help's support tables, and working end to end
// against a loopback fake of its API (an action, and a webhook turned into a pbx-event message).
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { ensureBrowser } = require('../../scripts/ensure-browser');
const { CHROMIUM_ARGS } = require('../helpers/browser');
const { Collector } = require('../helpers/collector');
const { integrationFlows } = require('../helpers/flows');
const { NodeRedProcess } = require('../helpers/node-red-process');

const ROOT = path.resolve(__dirname, '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** What `npm pack` takes from the package, and what building it needs. */
const PACKAGE_PARTS = [
  'package.json',
  'tsconfig.json',
  'README.md',
  'CHANGELOG.md',
  'LICENSE',
  'src',
  'nodes',
  'resources',
  'icons',
  'examples',
  'scripts',
];
const TOKEN = 'tiny-token-5a1f0c2e9b';
const TENANT = 'tenant-42';
const SECRET = 'tiny-webhook-secret-0123456789';

/** A copy of the package with the fixture provider added the documented way; returns its directory. */
function packageWithFixture() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-fixture-pkg-'));
  for (const part of PACKAGE_PARTS) {
    fs.cpSync(path.join(ROOT, part), path.join(dir, part), {
      recursive: true,
      filter: (src) => !src.startsWith(path.join(ROOT, 'resources', 'providers.js')),
    });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  // One folder ...
  fs.cpSync(path.join(__dirname, 'tiny-pbx'), path.join(dir, 'src', 'providers', 'tiny-pbx'), { recursive: true });
  // ... and one entry in the registry: its import, and its name at the end of the list.
  const registry = path.join(dir, 'src', 'providers', 'index.ts');
  const before = fs.readFileSync(registry, 'utf8');
  const after = before
    .replace(/^(import [^\n]*\n)(?!import )/m, "$1import { tinyPbx } from './tiny-pbx';\n")
    .replace(/registerProviders\(\[([^\]]*)\]\)/, 'registerProviders([$1, tinyPbx])');
  assert.equal(after.split('\n').length, before.split('\n').length + 1, 'one line more in src/providers/index.ts');
  assert.match(after, /, tinyPbx\]\)/);
  fs.writeFileSync(registry, after);
  execFileSync(process.execPath, ['scripts/build.js'], { cwd: dir, stdio: 'ignore' });
  return dir;
}

/** Packs `dir` and installs the tarball in a fresh Node-RED user directory, as a user would. */
function installedFrom(dir) {
  const out = execFileSync(NPM, ['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const tarball = path.join(dir, JSON.parse(out)[0].filename);
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-fixture-nr-'));
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-user', private: true, version: '0.0.0' }));
  execFileSync(NPM, ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--omit=dev'], { cwd: userDir, stdio: 'ignore' });
  return userDir;
}

/** The tiny PBX's API on loopback: answers every POST with a call id, remembers what it got. */
async function startFake() {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url === '/makecall' ? { callId: 'tiny-call-1' } : { state: 'idle' }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, received, close: () => new Promise((r) => server.close(r)) };
}

describe('a provider added as one folder and one registry entry', function () {
  this.timeout(60000);
  let pkgDir;
  let nr;
  let fake;
  let collector;
  let browser;

  before(async function () {
    this.timeout(10 * 60 * 1000); // build, pack and install a package; a first run may install Chromium
    pkgDir = packageWithFixture();
    fake = await startFake();
    collector = await new Collector().start();
    nr = await new NodeRedProcess({
      userDir: installedFrom(pkgDir),
      adminRoot: '/admin',
      settings: { telemetry: { enabled: false } },
    }).start();
    const flows = integrationFlows({
      collector: collector.url,
      prefix: '/tiny',
      config: {
        name: 'tiny',
        provider: 'tiny-pbx',
        baseUrl: fake.url,
        webhookPath: '/pbx/tiny',
        timeout: 5000,
        rejectUnauthorized: true,
        allowFrom: '',
        region: 'us',
        credentials: { apiToken: TOKEN, tenant: TENANT, webhookSecret: SECRET },
      },
    });
    await nr.deploy(flows);
    browser = await chromium.launch({ executablePath: ensureBrowser(), args: CHROMIUM_ARGS, timeout: 60000 });
  });

  after(async () => {
    await browser?.close();
    await nr?.stop();
    nr?.cleanup();
    await fake?.close();
    await collector?.close();
    if (pkgDir) fs.rmSync(pkgDir, { recursive: true, force: true });
  });

  it('needs no other source file: the build writes its credentials and setting into pbx-config.html', () => {
    const html = fs.readFileSync(path.join(pkgDir, 'nodes', 'pbx-config.html'), 'utf8');
    assert.match(html, /^\s*apiToken: \{ type: 'password' \},$/m);
    assert.match(html, /^\s*tenant: \{ type: 'password' \},$/m);
    assert.match(html, /^\s*region: \{ value: '' \},$/m);
    assert.equal(fs.existsSync(path.join(ROOT, 'src', 'providers', 'tiny-pbx')), false, 'the package itself has no fixture');
  });

  it('is listed by GET pbx-config/providers after the real providers, with everything the editor needs', async () => {
    const res = await fetch(nr.adminUrl('/pbx-config/providers'));
    assert.equal(res.status, 200);
    const catalog = await res.json();
    assert.deepEqual(Object.keys(catalog), ['3cx-webapi', 'voipnow', 'cloud-callcenter', 'tiny-pbx']);
    const tiny = catalog['tiny-pbx'];
    assert.deepEqual(tiny.label, { 'en-US': 'Tiny PBX (test fixture)', 'zh-CN': '微型 PBX（测试用）' });
    assert.deepEqual(
      tiny.credentials.map((c) => [c.name, c.kind, c.label['en-US']]),
      [
        ['apiToken', 'secret', 'API token'],
        ['tenant', 'identifier', 'Tenant'],
      ],
    );
    assert.deepEqual(
      tiny.settings.map((s) => [s.name, s.options.map((o) => o.value)]),
      [['region', ['eu', 'us']]],
    );
    assert.deepEqual(
      tiny.operations.map((o) => `${o.node}:${o.name}:${o.required.join('+')}`),
      ['call:makecall:extension+destination', 'status:extension-state:extension', 'queue:login:extension+queue'],
    );
  });

  it('runs an action against its API with its credentials and setting', async () => {
    const res = await fetch(`${nr.url}/tiny/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'makecall', params: { extension: '201', destination: '+15550100' } }),
    });
    const out = await res.json();
    assert.equal(res.status, 200, JSON.stringify(out));
    assert.deepEqual(out.payload, { ok: true, operation: 'makecall', extension: '201', destination: '+15550100', callId: 'tiny-call-1' });
    assert.deepEqual(out.pbx, { provider: 'tiny-pbx', operation: 'makecall' });
    const [sent] = fake.received;
    assert.equal(fake.received.length, 1);
    assert.equal(sent.method, 'POST');
    assert.equal(sent.path, '/makecall');
    assert.equal(sent.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(sent.headers['x-tenant'], TENANT);
    assert.equal(sent.headers['x-region'], 'us');
    assert.deepEqual(JSON.parse(sent.body), { extension: '201', destination: '+15550100' });
  });

  it('answers an operation other providers have as unsupported, without calling its API', async () => {
    const res = await fetch(`${nr.url}/tiny/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'answer', params: { extension: '201' } }),
    });
    const out = await res.json();
    assert.equal(res.status, 500);
    assert.equal(out.error.code, 'unsupported');
    assert.equal(out.error.message, 'answer is not supported by Tiny PBX (test fixture)');
    assert.equal(fake.received.length, 1);
  });

  it('turns a webhook into a pbx-event message', async () => {
    const res = await fetch(`${nr.url}/pbx/tiny/${SECRET}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ callId: 'tiny-call-7', state: 'ringing', extension: '201', from: '+15550111' }),
    });
    assert.equal(res.status, 200);
    const [message] = await collector.waitFor('/events', 1);
    assert.equal(message.topic, 'ringing');
    assert.equal(message.payload.provider, 'tiny-pbx');
    assert.equal(message.payload.event, 'ringing');
    assert.equal(message.payload.callId, 'tiny-call-7');
    assert.equal(message.payload.extension, '201');
    assert.equal(message.payload.from, '+15550111');
    assert.deepEqual(message.raw, { callId: 'tiny-call-7', state: 'ringing', extension: '201', from: '+15550111' });
  });

  /** An editor page in `locale`, loaded; collects page errors into `errors`. */
  async function editor(locale, errors) {
    const context = await browser.newContext({ locale, viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(nr.adminUrl('/'));
    await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.node('act-call') && RED.nodes.node('cfg'), null, {
      timeout: 30000,
    });
    return { context, page };
  }

  /**
   * Opens the edit dialog of node `id`; returns the values of its operation (or query) options that
   * can be chosen (the operations the provider lacks are listed disabled, with the reason).
   */
  async function operationsOffered(page, id, property) {
    await page.evaluate((nodeId) => RED.editor.edit(RED.nodes.node(nodeId)), id);
    await page.locator(`#node-input-${property}`).waitFor({ state: 'attached' });
    await page.waitForFunction((p) => $(`#node-input-${p} option`).length > 0, property);
    const values = await page.evaluate(
      (p) =>
        $(`#node-input-${p} option`)
          .filter((_, o) => !o.disabled)
          .map((_, o) => o.value)
          .get(),
      property,
    );
    const note = await page.locator('.pbx-op-note').innerText();
    return { values, note };
  }

  async function closeTrays(page) {
    while ((await page.locator('#red-ui-editor-stack .red-ui-tray').count()) > 0) {
      await page.evaluate(() => RED.tray.close());
      await page.waitForTimeout(300);
    }
  }

  it('the action nodes offer its operations only, in the editor', async () => {
    const errors = [];
    const { context, page } = await editor('en-US', errors);
    try {
      for (const [id, property, expected] of [
        ['act-call', 'operation', ['', 'makecall']],
        ['act-status', 'query', ['', 'extension-state']],
        ['act-queue', 'operation', ['', 'login']],
      ]) {
        const offered = await operationsOffered(page, id, property);
        assert.deepEqual(offered.values, expected, id);
        assert.equal(offered.note, 'Showing what Tiny PBX (test fixture) supports.', id);
        await closeTrays(page);
      }
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  for (const [locale, texts] of [
    [
      'en-US',
      {
        label: 'Tiny PBX (test fixture)',
        credentials: ['API token', 'Tenant'],
        setting: ['Region', ['Europe', 'United States']],
        hint: (url) => `Tiny PBX: post call events to ${url}\nand missed calls to ${url}?kind=missed`,
        help: /makecall\s+extension, destination\s+[^\n]*Tiny PBX \(test fixture\)/,
      },
    ],
    [
      'zh-CN',
      {
        label: '微型 PBX（测试用）',
        credentials: ['API 令牌', '租户'],
        setting: ['区域', ['欧洲', '美国']],
        hint: (url) => `微型 PBX：将呼叫事件发送到 ${url}\n未接来电发送到 ${url}?kind=missed`,
        help: /makecall\s+extension, destination\s+[^\n]*微型 PBX（测试用）/,
      },
    ],
  ]) {
    it(`the config dialog shows its label, credential and setting rows and webhook hint (${locale})`, async () => {
      const errors = [];
      const { context, page } = await editor(locale, errors);
      try {
        await page.evaluate(() => RED.editor.edit(RED.nodes.node('act-call')));
        const edit = page.locator('#node-input-btn-pbx-edit, #node-input-lookup-pbx').filter({ visible: true }).first();
        await edit.click();
        await page.locator('#node-config-input-provider').waitFor({ state: 'visible' });
        const dialog = await page.evaluate(() => ({
          provider: $('#node-config-input-provider').val(),
          label: $('#node-config-input-provider option:selected').text(),
          credentials: $('.pbx-credential-row:visible')
            .map((_, row) => [[$(row).attr('data-credential'), $(row).find('label').text().trim(), $(row).find('input').attr('type')]])
            .get(),
          hidden: $('.pbx-credential-row:hidden')
            .map((_, row) => $(row).attr('data-credential'))
            .get(),
          settings: $('.pbx-setting-row:visible')
            .map((_, row) => [
              [
                $(row).find('label').text().trim(),
                $(row).find('select').val(),
                $(row)
                  .find('option')
                  .map((__, o) => $(o).text())
                  .get(),
              ],
            ])
            .get(),
          url: $('#pbx-config-webhook-url').val(),
          hint: $('#pbx-config-webhook-hint').text(),
          baseUrlPlaceholder: $('#node-config-input-baseUrl').attr('placeholder'),
          declared: Object.keys(RED.nodes.getType('pbx-config').credentials),
        }));
        assert.equal(dialog.provider, 'tiny-pbx');
        assert.equal(dialog.label, texts.label);
        assert.deepEqual(dialog.credentials, [
          ['apiToken', texts.credentials[0], 'password'],
          ['tenant', texts.credentials[1], 'password'],
        ]);
        assert.deepEqual(dialog.hidden.sort(), ['accessKey', 'appId', 'appKey', 'clientId', 'clientSecret']);
        assert.deepEqual(dialog.settings, [[texts.setting[0], 'us', texts.setting[1]]]);
        assert.match(dialog.url, /\/pbx\/tiny\/\{secret\}$/);
        assert.equal(dialog.hint, texts.hint(dialog.url));
        assert.equal(dialog.baseUrlPlaceholder, 'https://tiny-pbx.example.com/api');
        assert.deepEqual(dialog.declared, [
          'accessKey',
          'clientId',
          'clientSecret',
          'appId',
          'appKey',
          'apiToken',
          'tenant',
          'webhookSecret',
          'redisPassword',
        ]);
        await closeTrays(page);

        const help = await page.evaluate(() => $('<div>').html(RED.nodes.getNodeHelp('pbx-call')).find('table.pbx-support-table').text());
        const rows = await page.evaluate(() =>
          $('<div>')
            .html(RED.nodes.getNodeHelp('pbx-call'))
            .find('table.pbx-support-table tr')
            .map((_, tr) =>
              $(tr)
                .children()
                .map((__, td) => $(td).text())
                .get()
                .join('  '),
            )
            .get()
            .join('\n'),
        );
        assert.ok(help.length > 0, 'the pbx-call help has its support table');
        assert.match(rows, texts.help);
        const providers = await page.evaluate(() => $('<div>').html(RED.nodes.getNodeHelp('pbx-config')).find('.pbx-provider-list').text());
        assert.ok(providers.includes(texts.label), providers);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });
  }
});

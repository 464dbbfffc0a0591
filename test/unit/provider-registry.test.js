'use strict';
// The provider registry (src/providers/index.ts) is the one place a provider is described: what
// it checks when the package loads, and everything derived from it agreeing with it: the
// credentials pbx-config declares to Node-RED (runtime and the literal in pbx-config.html), the
// catalog GET pbx-config/providers serves and resources/providers.js carries, the operation names
// a node accepts, and the webhook hints the editor fills in (resources/pbx-editor.js).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { PROVIDERS, providerOf } = require('../../dist/providers');
const { registerProviders, credentialNames, settingNames, catalogOf, KNOWN_OPERATIONS } = require('../../dist/core/registry');
const { op } = require('../../dist/core/provider');
const registerConfigNode = require('../../dist/nodes/pbx-config').default;

const ROOT = path.resolve(__dirname, '../..');
const URL_ = 'https://nr.example.test/pbx/abc/s3cret';

/** The browser scripts of resources/ run against a stub window and jQuery: returns window. */
function loadEditorScripts(...files) {
  const window = {};
  const context = vm.createContext({ window, $: { extend: Object.assign } });
  for (const file of files) vm.runInContext(fs.readFileSync(path.join(ROOT, 'resources', file), 'utf8'), context, { filename: file });
  return window;
}

/** pbx-config registered against a stub runtime: its registerType options and admin routes. */
function registeredConfigNode() {
  const routes = {};
  let options;
  const RED = {
    nodes: { registerType: (_type, _ctor, opts) => (options = opts) },
    httpAdmin: {
      get: (route, _auth, handler) => (routes[`GET ${route}`] = handler),
      post: (route, _auth, handler) => (routes[`POST ${route}`] = handler),
    },
    auth: { needsPermission: () => undefined },
    settings: {},
    _: (key) => key,
  };
  registerConfigNode(RED);
  return { options, routes };
}

/** The names between `// <name>` and `// </name>` in pbx-config.html. */
function literalBlock(name) {
  const html = fs.readFileSync(path.join(ROOT, 'nodes', 'pbx-config.html'), 'utf8');
  const block = new RegExp(`// <${name}>[^\\n]*\\n([\\s\\S]*?)\\n?[ \\t]*// </${name}>`).exec(html);
  assert.ok(block, name);
  return [...block[1].matchAll(/^\s*(\w+): \{/gm)].map((m) => m[1]);
}

/** A minimal valid definition, changed by `patch`. */
function definition(patch = {}) {
  return {
    id: 'test-pbx',
    label: { 'en-US': 'Test PBX', 'zh-CN': '测试 PBX' },
    credentials: [{ name: 'token', kind: 'secret', label: { 'en-US': 'Token', 'zh-CN': '令牌' } }],
    baseUrlPlaceholder: 'https://pbx.example.com',
    webhookHint: { 'en-US': 'Post to {url}', 'zh-CN': '发送到 {url}' },
    operations: [op('makecall', 'call', ['extension', 'destination'])],
    create: () => ({}),
    normalizeWebhook: () => [],
    ...patch,
  };
}

describe('provider registry', () => {
  it('lists the providers in the order the editor shows them, each found by its id only', () => {
    assert.deepEqual(Object.keys(PROVIDERS), ['3cx-webapi', 'voipnow', 'cloud-callcenter']);
    assert.equal(providerOf('voipnow').label['en-US'], '4PSA VoipNow (UnifiedAPI)');
    for (const id of ['constructor', '__proto__', 'toString', 'hasOwnProperty', '', '3CX-WEBAPI'])
      assert.equal(providerOf(id), undefined, id);
  });

  it('pbx-config declares every credential of every provider, the webhook secret and the Redis password, at runtime and in pbx-config.html', () => {
    const names = ['accessKey', 'clientId', 'clientSecret', 'appId', 'appKey', 'webhookSecret', 'redisPassword'];
    assert.deepEqual(credentialNames(PROVIDERS), names);
    const { options } = registeredConfigNode();
    assert.deepEqual(options.credentials, Object.fromEntries(names.map((n) => [n, { type: 'password' }])));
    assert.deepEqual(literalBlock('provider-credentials'), names);
    // 3cx-webapi's edition (k2m / creomate) is the only provider setting so far.
    assert.deepEqual(settingNames(PROVIDERS), ['edition']);
    assert.deepEqual(literalBlock('provider-settings'), ['edition']);
  });

  it('serves the same catalog at GET pbx-config/providers as resources/providers.js gives the editor', () => {
    const { routes } = registeredConfigNode();
    let served;
    routes['GET /pbx-config/providers']({}, { json: (body) => (served = JSON.parse(JSON.stringify(body))) });
    const window = loadEditorScripts('providers.js');
    assert.deepEqual(JSON.parse(JSON.stringify(window.PbxProviders)), served);
    assert.deepEqual(Object.keys(served), ['3cx-webapi', 'voipnow', 'cloud-callcenter']);
    // The table the help is drawn from: cloud-callcenter transfers without a call id, the others take one.
    const transfer = (id) => served[id].operations.find((o) => o.node === 'call' && o.name === 'transfer');
    assert.deepEqual(transfer('cloud-callcenter'), {
      name: 'transfer',
      node: 'call',
      required: ['extension', 'destination'],
      optional: [],
      stateChanging: true,
    });
    assert.deepEqual(transfer('voipnow').optional, ['callId']);
    assert.deepEqual(transfer('3cx-webapi').optional, ['callId']);
    assert.equal(JSON.stringify(served).includes('function'), false);
  });

  it('knows the operation names of each node kind over every provider, in registry order', () => {
    assert.deepEqual(KNOWN_OPERATIONS.call, ['makecall', 'answer', 'drop', 'transfer', 'join', 'doublecall']);
    assert.deepEqual(KNOWN_OPERATIONS.queue, ['login', 'logout', 'set-status', 'set-options']);
    assert.equal(KNOWN_OPERATIONS.status.length, 13);
    assert.equal(KNOWN_OPERATIONS.status[0], 'extension-state');
  });

  const BROKEN = [
    ['an id with capitals', { id: 'Test-PBX' }, /the id must be lower-case/],
    ['an id of digits only', { id: '123' }, /not only digits/],
    ['no zh-CN label', { label: { 'en-US': 'Test PBX', 'zh-CN': ' ' } }, /label has no zh-CN text/],
    ['a hint without the URL', { webhookHint: { 'en-US': 'Post to it', 'zh-CN': '发送到 {url}' } }, /webhookHint en-US has no \{url\}/],
    ['a base URL example that is no URL', { baseUrlPlaceholder: 'pbx.example.com' }, /baseUrlPlaceholder is not an http\(s\) URL/],
    [
      'a credential named webhookSecret',
      { credentials: [{ name: 'webhookSecret', kind: 'secret', label: { 'en-US': 'S', 'zh-CN': 'S' } }] },
      /credential "webhookSecret" is not a usable name/,
    ],
    [
      'a credential twice',
      {
        credentials: [
          { name: 'token', kind: 'secret', label: { 'en-US': 'T', 'zh-CN': 'T' } },
          { name: 'token', kind: 'secret', label: { 'en-US': 'T', 'zh-CN': 'T' } },
        ],
      },
      /credential "token" appears twice/,
    ],
    [
      'a setting without options',
      { settings: [{ name: 'edition', label: { 'en-US': 'E', 'zh-CN': 'E' }, options: [] }] },
      /setting edition has no options/,
    ],
    [
      'a parameter no node has',
      { operations: [op('makecall', 'call', ['extension', 'priority'])] },
      /operation call makecall: no node parameter "priority"/,
    ],
    [
      'a parameter of another node',
      { operations: [op('login', 'queue', ['extension', 'destination'])] },
      /no node parameter "destination"/,
    ],
    ['an unknown node kind', { operations: [op('hold', 'phone', ['extension'])] }, /unknown node kind "phone"/],
    [
      'an operation twice',
      { operations: [op('drop', 'call', ['extension']), op('drop', 'call', ['extension'])] },
      /operation call drop appears twice/,
    ],
    ['required and optional at once', { operations: [op('drop', 'call', ['extension'], ['extension'])] }, /both required and optional/],
  ];
  for (const [what, patch, message] of BROKEN) {
    it(`refuses a definition with ${what}, naming it`, () => {
      assert.throws(
        () => registerProviders([definition(patch)]),
        (err) => /^provider "[^"]*": /.test(err.message) && message.test(err.message),
      );
    });
  }

  it('refuses the same id twice, and takes a valid definition', () => {
    assert.throws(() => registerProviders([definition(), definition()]), /provider "test-pbx": registered twice/);
    const providers = registerProviders([definition()]);
    assert.deepEqual(credentialNames(providers), ['token', 'webhookSecret', 'redisPassword']);
    assert.deepEqual(Object.keys(catalogOf(providers)), ['test-pbx']);
    assert.equal(Object.isFrozen(providers), true);
    assert.equal(Object.getPrototypeOf(providers), null);
  });
});

describe('webhook hints as the config dialog shows them (resources/pbx-editor.js)', () => {
  const { PbxEditor } = loadEditorScripts('pbx-editor.js');
  const hint = (id, lang = 'en-US') => PbxEditor.fillHint(providerOf(id).webhookHint[lang], URL_);

  it('fills {url}, and {url?name=value} with the right separator', () => {
    assert.equal(PbxEditor.fillHint('a {url} b {url?event=hangup}', 'http://h/p'), 'a http://h/p b http://h/p?event=hangup');
    assert.equal(PbxEditor.fillHint('{url?event=hangup}', 'http://h/p?x=1'), 'http://h/p?x=1&event=hangup');
  });

  it('3cx-webapi: the WebhooksApi.ini lines with the URL', () => {
    for (const lang of ['en-US', 'zh-CN'])
      assert.match(hint('3cx-webapi', lang), new RegExp(`\\nWEBHOOK_URL=${URL_}\\nHTTP_REQUEST_METHOD_POST=1$`));
  });

  it('voipnow: one callback URL per Call Event type', () => {
    for (const lang of ['en-US', 'zh-CN']) {
      const lines = hint('voipnow', lang).split('\n').slice(2);
      assert.deepEqual(lines, [
        `Dial-In: ${URL_}?event=dial-in`,
        `Dial-Out: ${URL_}?event=dial-out`,
        `Answer incoming: ${URL_}?event=answer-incoming`,
        `Answer outgoing: ${URL_}?event=answer-outgoing`,
        `Hangup: ${URL_}?event=hangup`,
      ]);
    }
  });

  it('cloud-callcenter: the URL for both callbacks', () => {
    assert.match(
      hint('cloud-callcenter'),
      new RegExp(`\\nextension call status callback: ${URL_}\\nCDR \\(call record\\) callback: ${URL_}$`),
    );
    assert.match(hint('cloud-callcenter', 'zh-CN'), new RegExp(`\\n分机通话状态回调：${URL_}\\n话单（CDR）回调：${URL_}$`));
  });
});

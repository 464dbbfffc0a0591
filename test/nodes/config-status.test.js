'use strict';
// What the nodes of a pbx-config show when it cannot start (webhook path used by another config,
// unknown provider, bad base URL, bad allowed senders) and when an action fails: red ring, short
// translated text, from deploy on; and one rule for an error that is not a PbxError.
const assert = require('node:assert/strict');
const { helper, load, collect, statusOf, pbxConfig, actionNodes, inLanguage } = require('../helpers/red');

const DEAD = 'http://127.0.0.1:9';
const KEY = 'config-status-access-key-0123';
const ACTION_TYPES = { call: 'pbx-call', status: 'pbx-status', queue: 'pbx-queue' };
const OPERATION = { call: { operation: 'makecall' }, status: { query: 'extensions' }, queue: { operation: 'login' } };

/** Every status `node` has set since the flow was loaded (the helper spies on Node.prototype.status). */
function statusesOf(id) {
  const node = helper.getNode(id);
  return helper._NodePrototype.status
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0]);
}

/** Error-level log entries written by node `id`. */
function errorsLoggedBy(id) {
  const log = helper.log();
  return log.args.map(([entry]) => entry).filter((e) => e && e.level === log.ERROR && e.id === id);
}

/** Config `cfg` (with `props`), and on it a pbx-event `ev` and one node of each action type. */
function configFlow(props) {
  return [
    pbxConfig({ provider: '3cx-webapi', baseUrl: `${DEAD}/webapi`, webhookPath: '/pbx/cfg-status', ...props }),
    { id: 'ev', type: 'pbx-event', pbx: 'cfg', events: [], direction: 'any', outputs: 1, wires: [[]] },
    ...Object.entries(ACTION_TYPES).map(([id, type]) => ({ id, type, pbx: 'cfg', ...OPERATION[id], wires: [[]] })),
  ];
}

const red = (text) => ({ fill: 'red', shape: 'ring', text });

describe('status of the nodes of a pbx-config that cannot start', function () {
  this.timeout(10000);
  afterEach(() => helper.unload());

  describe('a webhook path used by another pbx-config', () => {
    const flow = () => [
      pbxConfig({ id: 'first', provider: '3cx-webapi', baseUrl: `${DEAD}/webapi`, webhookPath: '/pbx/shared' }),
      ...configFlow({ webhookPath: '/pbx/shared' }),
      { id: 'ev-first', type: 'pbx-event', pbx: 'first', events: [], direction: 'any', outputs: 1, wires: [[]] },
    ];
    const credentials = { first: { accessKey: KEY }, cfg: { accessKey: KEY } };

    it('shows red "path in use" on its event and action nodes from deploy on, and is logged once by that config', async () => {
      await load(flow(), credentials);
      for (const id of ['ev', 'call', 'status', 'queue']) assert.deepEqual(statusesOf(id), [red('path in use')], id);
      assert.deepEqual(statusesOf('ev-first'), [{ fill: 'grey', shape: 'ring', text: 'waiting for events' }], 'the first config works');
      const logged = errorsLoggedBy('cfg');
      assert.equal(logged.length, 1, JSON.stringify(logged));
      assert.equal(logged[0].msg, 'webhook path /pbx/shared is already used by another pbx-config');
      for (const id of ['ev', 'call', 'status', 'queue', 'first', 'ev-first']) assert.deepEqual(errorsLoggedBy(id), [], id);
    });

    it('says so in Chinese when Node-RED runs in zh-CN', async () => {
      await inLanguage('zh-CN', () => load(flow(), credentials));
      for (const id of ['ev', 'call', 'status', 'queue']) assert.deepEqual(statusesOf(id), [red('路径已被占用')], id);
    });

    it('keeps the reason on an action node after an input, which fails with invalid_input', async () => {
      await load([...flow(), ...actionNodes('pbx-call', { operation: 'makecall' })], credentials);
      const caught = collect('caught', 1);
      helper.getNode('n1').receive({ payload: { extension: '117', destination: '0555' } });
      const [msg] = await caught;
      assert.equal(msg.error.code, 'invalid_input');
      assert.equal(msg.error.message, 'webhook path /pbx/shared is already used by another pbx-config');
      assert.deepEqual(statusesOf('n1'), [red('path in use'), red('path in use')]);
    });
  });

  const BROKEN = [
    { why: 'an unknown provider', props: { provider: 'nope' }, en: 'unknown provider', zh: '未知服务商' },
    { why: 'a base URL that is not http(s)', props: { baseUrl: 'ftp://pbx.example.com' }, en: 'bad base URL', zh: '基础 URL 无效' },
    { why: 'a bad allowed-senders list', props: { allowFrom: '10.0.0.0/99' }, en: 'bad allowed senders', zh: '允许来源无效' },
    { why: 'a Redis URL that is not redis://', props: { redisUrl: 'http://cache:6379' }, en: 'bad Redis settings', zh: '集群设置无效' },
    { why: 'a bad trusted-proxies list', props: { trustedProxies: 'proxy.local' }, en: 'bad trusted proxies', zh: '受信任代理无效' },
  ];
  for (const { why, props, en, zh } of BROKEN) {
    it(`${why}: red "${en}" on every node of the config at deploy, in both languages`, async () => {
      await load(configFlow(props), { cfg: { accessKey: KEY } });
      for (const id of ['ev', 'call', 'status', 'queue']) assert.deepEqual(statusesOf(id), [red(en)], id);
      assert.equal(errorsLoggedBy('cfg').length, 1);
      await helper.unload();
      await inLanguage('zh-CN', () => load(configFlow(props), { cfg: { accessKey: KEY } }));
      for (const id of ['ev', 'call', 'status', 'queue']) assert.deepEqual(statusesOf(id), [red(zh)], id);
    });
  }

  it('a pbx-status in watch mode on a broken config shows the reason too', async () => {
    await load(
      [
        pbxConfig({ provider: 'nope', baseUrl: `${DEAD}/x` }),
        { id: 'watch', type: 'pbx-status', pbx: 'cfg', watch: true, interval: 2, wires: [[]] },
      ],
      { cfg: { accessKey: KEY } },
    );
    assert.deepEqual(statusesOf('watch'), [red('unknown provider')]);
  });

  it('a node without a config node says so', async () => {
    await load(
      [
        { id: 'call', type: 'pbx-call', pbx: '', operation: 'makecall', wires: [[]] },
        { id: 'ev', type: 'pbx-event', pbx: 'gone', wires: [[]] },
      ],
      {},
    );
    assert.deepEqual(statusesOf('call'), [red('no pbx-config')]);
    assert.deepEqual(statusesOf('ev'), [red('no pbx-config')]);
  });

  it('with httpNodeRoot false (no webhooks served) pbx-event says so, not "waiting"; the config warns once; actions still work', async () => {
    helper.settings({ httpNodeRoot: false });
    try {
      await load(configFlow({}), { cfg: { accessKey: KEY } });
      assert.deepEqual(statusesOf('ev'), [red('no webhooks served')]);
      const warnings = helper
        .log()
        .args.map(([entry]) => entry)
        .filter((e) => e && e.level === helper.log().WARN && e.id === 'cfg');
      assert.equal(warnings.length, 1);
      assert.match(String(warnings[0].msg), /httpNodeRoot is false/);
      assert.ok(helper.getNode('cfg').account, 'the account runs: actions do not need webhooks');
    } finally {
      helper.settings({});
    }
  });
});

describe('status of a failed action', function () {
  this.timeout(10000);
  afterEach(() => helper.unload());

  /** Loads pbx-call `n1` with `props` on a config at a dead address; sends `payload`; the caught msg and n1's statuses. */
  async function failedCall(props, payload) {
    await load([pbxConfig({ provider: '3cx-webapi', baseUrl: `${DEAD}/webapi` }), ...actionNodes('pbx-call', props)], {
      cfg: { accessKey: KEY },
    });
    const caught = collect('caught', 1);
    helper.getNode('n1').receive({ payload });
    const [msg] = await caught;
    return { msg, statuses: statusesOf('n1') };
  }

  it('shows the translated text of the error code, not the code', async () => {
    const { msg, statuses } = await failedCall({ operation: 'makecall' }, { extension: '117', destination: '0555' });
    assert.equal(msg.error.code, 'unreachable');
    assert.deepEqual(statuses.at(-1), red('unreachable'));
    await helper.unload();
    const missing = await failedCall({ operation: 'makecall' }, { extension: '117' });
    assert.equal(missing.msg.error.code, 'invalid_input');
    assert.deepEqual(missing.statuses.at(-1), red('invalid input'));
  });

  it('in Chinese too', async () => {
    await inLanguage('zh-CN', async () => {
      const { msg, statuses } = await failedCall({ operation: 'makecall' }, { extension: '117' });
      assert.equal(msg.error.code, 'invalid_input');
      assert.deepEqual(statuses.at(-1), red('输入无效'));
    });
  });

  it('a pbx-status watching extensions shows the translated text when a poll fails', async () => {
    await inLanguage('zh-CN', async () => {
      await load(
        [
          pbxConfig({ provider: '3cx-webapi', baseUrl: `${DEAD}/webapi`, timeout: 500 }),
          { id: 'watch', type: 'pbx-status', pbx: 'cfg', watch: true, interval: 2, wires: [[]] },
        ],
        { cfg: { accessKey: KEY } },
      );
      const watch = helper.getNode('watch');
      const failed = await statusOf(watch, (s) => s.fill === 'red');
      assert.deepEqual(failed, red('无法连接'));
    });
  });

  it('an error that is not a PbxError (a JSONata syntax error in a parameter) is invalid_input with its message', async () => {
    const { msg, statuses } = await failedCall(
      { operation: 'makecall', destination: '$$$((', destinationType: 'jsonata' },
      { extension: '117' },
    );
    assert.equal(msg.error.code, 'invalid_input');
    assert.match(msg.error.message, /^cannot evaluate jsonata property: .*\S/);
    assert.doesNotMatch(msg.error.message, /\[object Object\]/);
    assert.deepEqual(msg.pbx.error, { message: msg.error.message, code: 'invalid_input', provider: '3cx-webapi', operation: 'makecall' });
    assert.deepEqual(statuses.at(-1), red('invalid input'));
  });
});

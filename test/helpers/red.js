'use strict';
// node-red-node-test-helper set up once for all node tests, with the package's node files
// and the package's own message catalogs (nodes/locales), looked up as Node-RED looks them up.
const path = require('node:path');
const helper = require('node-red-node-test-helper');
const supertest = require('supertest');

helper.init(require.resolve('node-red'));

// The helper hands nodes `RED._ = (key) => key`; Node-RED proper registers each node's catalog
// with @node-red/util's i18n under `<module>/<node set>`. Do the same, so a test sees the texts
// users see and a key missing from the catalog fails the test instead of showing a readable key.
const { i18n } = require(require.resolve('@node-red/util', { paths: [require.resolve('node-red')] }));
// Node-RED's namespace for a node set's catalog: `<package name>/<node set name>`.
const NAMESPACE = `${require('../../package.json').name}/pbx-config`;
const LOCALES = path.resolve(__dirname, '../../nodes/locales');
i18n.init({ lang: 'en-US' });
const catalogsLoaded = i18n.registerMessageCatalog(NAMESPACE, LOCALES, 'pbx-config.json');
/** Keys of the package's catalog a node asked for and that do not exist: each fails the test that asked. */
const missingKeys = [];

function translate(key, substitutions) {
  if (typeof key !== 'string' || !key.startsWith(`${NAMESPACE}:`)) return key;
  if (!i18n.i.exists(key, substitutions)) {
    missingKeys.push(key);
    return `MISSING ${key}`;
  }
  return i18n._(key, substitutions);
}

// Under mocha, a test that asked for a missing key fails; the benchmark loads this file outside mocha.
if (typeof afterEach === 'function') {
  afterEach(function () {
    const missing = missingKeys.splice(0);
    if (missing.length) this.test.error(new Error(`message keys missing from ${LOCALES}: ${[...new Set(missing)].join(', ')}`));
  });
}

/** Runs `work` with Node-RED's runtime language set to `lang` ('en-US', 'zh-CN'), then sets en-US back. */
async function inLanguage(lang, work) {
  await catalogsLoaded;
  await i18n.i.changeLanguage(lang);
  try {
    return await work();
  } finally {
    await i18n.i.changeLanguage('en-US');
  }
}

/** The catalog text of `key` (without namespace) in the current language. */
function text(key, substitutions) {
  return translate(`${NAMESPACE}:${key}`, substitutions);
}

const configNode = require('../../nodes/pbx-config.js');
let httpNode;
// Captures the runtime's httpNode app so tests can send webhooks to it.
const capturingConfigNode = (RED) => {
  httpNode = RED.httpNode;
  return configNode(RED);
};

/** A node module whose RED.\_ looks keys up in the real catalogs. */
const withCatalogs = (register) => (RED) => {
  RED._ = translate;
  return register(RED);
};

const NODES = [
  capturingConfigNode,
  require('../../nodes/pbx-event.js'),
  require('../../nodes/pbx-call.js'),
  require('../../nodes/pbx-status.js'),
  require('../../nodes/pbx-queue.js'),
  require('../../nodes/pbx-missed.js'),
  require('../../nodes/pbx-stats.js'),
].map(withCatalogs);

/** Loads a flow with every package node available; resolves once it runs. */
async function load(flow, credentials = {}) {
  await catalogsLoaded;
  await helper.load(NODES, flow, credentials);
}

/** An HTTP client for Node-RED's httpNode app (where webhooks arrive). */
function webhook() {
  return supertest(httpNode);
}

/** The runtime's httpNode express app itself (to serve it on a port). */
function webhookApp() {
  return httpNode;
}

/** Resolves with the next `count` messages a helper node receives. */
function collect(nodeId, count, timeoutMs = 5000) {
  const node = helper.getNode(nodeId);
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => reject(new Error(`${nodeId}: got ${got.length} of ${count} messages`)), timeoutMs);
    node.on('input', (msg) => {
      got.push(msg);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

/** Resolves when `predicate(status)` holds for a status the node set. */
function statusOf(node, predicate, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const original = node.status.bind(node);
    const timer = setTimeout(() => reject(new Error('status not reached')), timeoutMs);
    node.status = (s) => {
      original(s);
      if (predicate(s)) {
        clearTimeout(timer);
        resolve(s);
      }
    };
  });
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

/** A pbx-config node `cfg` with the dialog's defaults; `props` sets provider, baseUrl, webhookPath... */
function pbxConfig(props) {
  return { id: 'cfg', type: 'pbx-config', name: props.provider, timeout: 2000, rejectUnauthorized: true, allowFrom: '', ...props };
}

/** Action node `n1` (on config `cfg`) → helper `out`, with a catch node → helper `caught`. */
function actionNodes(type, props) {
  return [
    { id: 'n1', type, pbx: 'cfg', wires: [['out']], ...props },
    { id: 'out', type: 'helper' },
    { id: 'c1', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];
}

/** pbx-event `ev` with four outputs → helpers `ringing`, `answered`, `hangup`, `recording`. */
function eventNodes(props = {}) {
  return [
    {
      id: 'ev',
      type: 'pbx-event',
      pbx: 'cfg',
      events: [],
      extension: '',
      direction: 'any',
      outputs: 4,
      wires: [['ringing'], ['answered'], ['hangup'], ['recording']],
      ...props,
    },
    ...['ringing', 'answered', 'hangup', 'recording'].map((id) => ({ id, type: 'helper' })),
  ];
}

module.exports = {
  helper,
  load,
  webhook,
  webhookApp,
  collect,
  statusOf,
  wait,
  pbxConfig,
  actionNodes,
  eventNodes,
  inLanguage,
  text,
  catalogsLoaded,
  translate,
  NAMESPACE,
};
